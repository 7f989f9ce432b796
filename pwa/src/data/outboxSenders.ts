// Who sends what: each feature registers one sender per outbox kind, and says in words what an item is.
import type { Table } from 'dexie'
import type { OutboxRow } from './db'

/** What a sender reports for one item. */
export type SendOutcome =
  /** The server has it. `commit` runs in the same transaction that removes the item (over `tables`). */
  | { status: 'done'; tables?: Table[]; commit?: () => Promise<void> }
  /** Not now (the server failed, or something this item needs is not there yet): tried again after a backoff. */
  | { status: 'retry'; message?: string; code?: string }
  /** The server said no: kept with the message, shown, holds back its group. */
  | { status: 'refused'; message: string; code?: string }

export interface SendContext {
  userId: number
  /** Store a changed payload before sending it (e.g. the grids the server refused left out). */
  updatePayload(payload: unknown): Promise<void>
  getBlob(id: string): Promise<Blob | undefined>
}

/** A sender may also throw: OfflineError stops the drain, AuthExpiredError asks for the password, ApiError is
 * classified (5xx/408/429: retry; other 4xx: refused with the server's message). */
export type Sender = (item: OutboxRow, ctx: SendContext) => Promise<SendOutcome>

/** One line of "what is waiting", e.g. {what: 'patrolPoints', n: 21} → "巡查轨迹 21 个点" (i18n outbox.what.*). */
export interface PendingWhat {
  what: string
  n: number
}

interface KindSpec {
  send: Sender
  describe: (item: OutboxRow) => PendingWhat
}

const kinds = new Map<string, KindSpec>()

export function registerSender(kind: string, send: Sender, describe?: (item: OutboxRow) => PendingWhat): void {
  kinds.set(kind, { send, describe: describe ?? (() => ({ what: 'other', n: 1 })) })
}

export function senderFor(kind: string): Sender | undefined {
  return kinds.get(kind)?.send
}

export function isKnownKind(kind: string): boolean {
  return kinds.has(kind)
}

/** In words; an item no sender is registered for is "unknown" (this app version cannot send it). */
export function describeItem(item: OutboxRow): PendingWhat {
  const spec = kinds.get(item.kind)
  return spec ? spec.describe(item) : { what: 'unknown', n: 1 }
}

type LocalPending = (userId: number) => Promise<PendingWhat[]>
const localSources: LocalPending[] = []
/** Records saved here that are not in the outbox yet (a patrol's fixes until they are cut into a batch). */
export function registerLocalPending(source: LocalPending): void {
  localSources.push(source)
}
export function localPendingSources(): readonly LocalPending[] {
  return localSources
}

export const done = (commit?: () => Promise<void>, tables?: Table[]): SendOutcome => ({ status: 'done', commit, tables })
export const retryLater = (message?: string, code?: string): SendOutcome => ({ status: 'retry', message, code })
export const refused = (message: string, code?: string): SendOutcome => ({ status: 'refused', message, code })
