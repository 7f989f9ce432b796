// Tasks (排班) a leader creates on this device: each goes to the outbox as its own POST /tasks (idempotent on its
// client_id), so planning works offline and shows what is not on the server yet.
import type { NewTask } from '@/api/tasks'
import { attempt, db, type OutboxRow, type OutboxState, type Result } from './db'
import { enqueueInTransaction, outboxTables } from './outbox'

export const KIND_TASK_CREATE = 'task.create'

export interface TaskPayload {
  body: NewTask
}

export interface PendingTask {
  seq: number
  body: NewTask
  state: OutboxState
  lastError: string | null
  lastErrorCode: string | null
  createdAt: number
}

/** Queue a task. The same client_id again (the same form sent twice) keeps the one already queued. */
export function queueTask(userId: number, body: NewTask): Promise<Result<OutboxRow>> {
  return attempt(() =>
    db.transaction('rw', outboxTables(), async () => {
      const queued = await db.outbox.where('clientId').equals(body.client_id).first()
      if (queued) return queued
      return enqueueInTransaction({
        userId, kind: KIND_TASK_CREATE, clientId: body.client_id, group: `task:${body.client_id}`,
        payload: { body } satisfies TaskPayload,
      })
    }),
  )
}

/** The user's tasks not yet on the server, oldest first. */
export function pendingTasks(userId: number): Promise<Result<PendingTask[]>> {
  return attempt(async () =>
    (await db.outbox.where('userId').equals(userId).sortBy('seq'))
      .filter((r) => r.kind === KIND_TASK_CREATE)
      .map((r) => ({
        seq: r.seq!, body: (r.payload as TaskPayload).body, state: r.state, lastError: r.lastError,
        lastErrorCode: r.lastErrorCode, createdAt: r.createdAt,
      })),
  )
}
