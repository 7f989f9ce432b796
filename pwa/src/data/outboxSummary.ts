// What is waiting to be uploaded, in the words people use ("巡查轨迹 21 个点、结束巡查 1 次"), what the server
// refused, and what this app version cannot send.
import { attempt, type Result } from './db'
import { listPending } from './outbox'
import './senders'
import { describeItem, isKnownKind, localPendingSources, type PendingWhat } from './outboxSenders'

export interface RefusedItem {
  seq: number
  kind: string
  what: PendingWhat
  message: string | null
  code: string | null
}

export interface OutboxSummary {
  /** one line per kind of thing, with how many (items, or fixes for a track) */
  lines: PendingWhat[]
  /** outbox items of this user (as on the tab badge) */
  items: number
  refused: RefusedItem[]
  /** kinds no sender is registered for (another app version queued them): kept, never sent by this one */
  unknown: { kind: string; n: number }[]
  /** items waiting for a retry after the server failed, and when the first is due */
  retrying: number
  nextAttemptAt: number | null
}

const ORDER = ['patrolStart', 'patrolPoints', 'patrolEnd', 'task', 'other', 'unknown']

export function addLine(lines: PendingWhat[], add: PendingWhat): void {
  const same = lines.find((l) => l.what === add.what)
  if (same) same.n += add.n
  else lines.push({ ...add })
}

export function sortLines(lines: PendingWhat[]): PendingWhat[] {
  const rank = (w: string) => (ORDER.includes(w) ? ORDER.indexOf(w) : ORDER.length)
  return [...lines].sort((a, b) => rank(a.what) - rank(b.what))
}

export function outboxSummary(userId: number): Promise<Result<OutboxSummary>> {
  return attempt(async () => {
    const items = await listPending(userId)
    if (!items.ok) throw items.error
    const lines: PendingWhat[] = []
    const refused: RefusedItem[] = []
    const unknown: { kind: string; n: number }[] = []
    let retrying = 0
    let nextAttemptAt: number | null = null
    for (const item of items.value) {
      const what = describeItem(item)
      addLine(lines, what)
      if (!isKnownKind(item.kind)) {
        const u = unknown.find((x) => x.kind === item.kind)
        if (u) u.n++
        else unknown.push({ kind: item.kind, n: 1 })
      } else if (item.state === 'refused') {
        refused.push({ seq: item.seq!, kind: item.kind, what, message: item.lastError, code: item.lastErrorCode })
      } else if (item.state === 'retry') {
        retrying++
        if (nextAttemptAt === null || item.nextAttemptAt < nextAttemptAt) nextAttemptAt = item.nextAttemptAt
      }
    }
    for (const source of localPendingSources()) for (const line of await source(userId)) addLine(lines, line)
    return { lines: sortLines(lines), items: items.value.length, refused, unknown, retrying, nextAttemptAt }
  })
}
