// The one upload queue of every feature: items are added inside the feature's own transaction (so a record and
// its upload are written together), kept per user, never expire, and leave only when the server has them.
import Dexie, { type Table } from 'dexie'
import { attempt, db, type OutboxRow, type Result } from './db'

export interface NewOutboxItem {
  userId: number
  kind: string
  payload: unknown
  /** the id the server sees (client_id, batch_id); made here when not given */
  clientId?: string
  /** ordering group; an item without one is a group of its own */
  group?: string
  blobIds?: string[]
  now?: number
}

export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  // crypto.randomUUID needs a secure context; a town's intranet may serve plain http
  const bytes = new Uint8Array(16)
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256)
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The tables an enqueue touches: list them in the feature's transaction, e.g. `[db.patrols, ...outboxTables()]`. */
export function outboxTables(): Table[] {
  return [db.outbox, db.blobs]
}

type EnqueueListener = () => void
const listeners = new Set<EnqueueListener>()
/** Told after a transaction that enqueued has committed (the drain runs "after each enqueue"). */
export function onEnqueued(listener: EnqueueListener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}
function announce() {
  for (const l of listeners) l()
}

const announcing = new WeakSet<object>()

function rowOf(item: NewOutboxItem): OutboxRow {
  const clientId = item.clientId ?? newClientId()
  return {
    userId: item.userId,
    clientId,
    kind: item.kind,
    group: item.group ?? `item:${clientId}`,
    payload: item.payload,
    blobIds: [...(item.blobIds ?? [])],
    createdAt: item.now ?? Date.now(),
    attempts: 0,
    nextAttemptAt: 0,
    state: 'pending',
    lastError: null,
    lastErrorCode: null,
  }
}

/**
 * Add an item inside the caller's running Dexie transaction (which must include outboxTables()); throws, so a
 * failure aborts the caller's transaction and neither the record nor its upload is written.
 */
export async function enqueueInTransaction(item: NewOutboxItem): Promise<OutboxRow> {
  const row = rowOf(item)
  row.seq = await db.outbox.add(row)
  const tx = Dexie.currentTransaction
  if (!tx) queueMicrotask(announce)
  else if (!announcing.has(tx)) {
    announcing.add(tx)
    tx.on('complete', announce)
  }
  return row
}

/** Add one item on its own. */
export function enqueue(item: NewOutboxItem): Promise<Result<OutboxRow>> {
  return attempt(() => enqueueInTransaction(item))
}

export function pendingCount(userId: number): Promise<Result<number>> {
  return attempt(() => db.outbox.where('userId').equals(userId).count())
}

/** The user's items in the order they are sent. */
export function listPending(userId: number): Promise<Result<OutboxRow[]>> {
  return attempt(() => db.outbox.where('userId').equals(userId).sortBy('seq'))
}

/** The items of one ordering group, in order. */
export function groupItems(group: string): Promise<Result<OutboxRow[]>> {
  return attempt(() => db.outbox.where('group').equals(group).sortBy('seq'))
}

/** Remove one item after the server has stored it. */
export function remove(seq: number): Promise<Result<void>> {
  return attempt(() => db.outbox.delete(seq))
}

/**
 * The owner gives up a refused item (the server will never take it as it is). Only refused items of that user:
 * nothing else ever leaves the outbox unsent. Its blobs go with it unless another item needs them.
 */
export function discardRefused(seq: number, userId: number): Promise<Result<boolean>> {
  return attempt(() =>
    db.transaction('rw', outboxTables(), async () => {
      const row = await db.outbox.get(seq)
      if (!row || row.userId !== userId || row.state !== 'refused') return false
      await db.outbox.delete(seq)
      await releaseBlobsInTransaction(row.blobIds)
      return true
    }),
  )
}

/** Delete the blobs no outbox item references any more (inside a transaction over outboxTables()). */
export async function releaseBlobsInTransaction(blobIds: string[]): Promise<void> {
  for (const id of new Set(blobIds)) {
    const stillUsed = await db.outbox.filter((r) => r.blobIds?.includes(id)).count()
    if (!stillUsed) await db.blobs.delete(id)
  }
}
