// Per-user queue of records waiting for upload; later features add to it and drain it.
// Nothing here deletes another user's rows: only `remove` after the server confirmed an upload.
import { attempt, db, type OutboxRow, type Result } from './db'

export type NewOutboxItem = Pick<OutboxRow, 'userId' | 'kind' | 'payload'> & { clientId?: string }

function newClientId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
}

export function enqueue(item: NewOutboxItem): Promise<Result<OutboxRow>> {
  return attempt(async () => {
    const row: OutboxRow = {
      userId: item.userId,
      clientId: item.clientId ?? newClientId(),
      kind: item.kind,
      payload: item.payload,
      createdAt: Date.now(),
      attempts: 0,
      lastError: null,
    }
    row.seq = await db.outbox.add(row)
    return row
  })
}

export function pendingCount(userId: number): Promise<Result<number>> {
  return attempt(() => db.outbox.where('userId').equals(userId).count())
}

export function listPending(userId: number): Promise<Result<OutboxRow[]>> {
  return attempt(() => db.outbox.where('userId').equals(userId).sortBy('createdAt'))
}

/** Remove one item after the server has stored it. */
export function remove(seq: number): Promise<Result<void>> {
  return attempt(() => db.outbox.delete(seq))
}
