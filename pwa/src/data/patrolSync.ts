// The patrol's senders for the outbox: POST /patrols, its batches of fixes and its end. Exactly-once comes from
// the server: client_id and batch_id make every retry harmless; the bodies are the ones stored with the items.
import { ApiError } from '@/api/http'
import * as api from '@/api/patrols'
import type { Patrol, PatrolStartBody, PointsBatchBody } from '@/api/types'
import { db, type OutboxRow } from './db'
import { done, refused, registerLocalPending, registerSender, type SendContext } from './outboxSenders'
import {
  KIND_END, KIND_POINTS, KIND_START, endedByServerInTransaction, patrolTables, recordBatchUploaded, recordServerEnd,
  recordStarted, uncutFixes, type PatrolPayload,
} from './patrols'

/**
 * POST /patrols. The fixes were recorded whatever the server now thinks of the plan, so a refusal of the plan
 * must not strand them: a task deleted or over meanwhile -> start as a patrol of the same grids without the task;
 * grids no longer this officer's -> start without those. The changed body is stored before it is sent.
 * The officer already has another patrol running (409 patrol_running): kept, and the officer chooses on the
 * patrol screen (continue that one with this phone's track, or end it).
 */
async function sendStart(item: OutboxRow, ctx: SendContext) {
  const payload = item.payload as PatrolPayload<PatrolStartBody>
  let body = payload.body
  for (let round = 0; ; round++) {
    try {
      const answer = await api.startPatrol(body)
      const shiftEnds = answer.shift_ends_at ? Date.parse(answer.shift_ends_at) : null
      return done(() => recordStarted(payload.patrolClientId, answer.id, shiftEnds), patrolTables())
    } catch (err) {
      if (err instanceof ApiError && err.status === 409 && err.code === 'patrol_running') {
        const other = err.details?.patrol as Patrol | undefined
        if (other) await db.patrols.update(payload.patrolClientId, { conflict: other })
        return refused(err.message, err.code)
      }
      const next = round < 2 && err instanceof ApiError && err.status === 400 ? withoutRefused(body, err) : null
      if (!next) throw err
      await ctx.updatePayload({ ...payload, body: next })
      body = next
    }
  }
}

function withoutRefused(body: PatrolStartBody, err: ApiError): PatrolStartBody | null {
  if ((err.code === 'task_not_yours' || err.code === 'task_over') && body.task_id !== undefined) {
    const { task_id: _refused, ...rest } = body
    void _refused
    return rest
  }
  const fields = err.details?.fields as { grid_ids?: { unknown?: number[] } } | undefined
  const hidden = fields?.grid_ids?.unknown
  if (!Array.isArray(hidden) || !body.grid_ids) return null
  const { grid_ids: asked, ...rest } = body
  const kept = asked.filter((g) => !hidden.includes(g))
  return kept.length ? { ...rest, grid_ids: kept } : rest
}

async function serverIdOf(patrolClientId: string): Promise<number | null> {
  return (await db.patrols.get(patrolClientId))?.serverId ?? null
}

/** Its start is earlier in the same group, so the server id is known by now; if not, the start was lost. */
function noServerPatrol() {
  return refused('', 'patrol_not_started')
}

async function sendPoints(item: OutboxRow) {
  const payload = item.payload as PatrolPayload<PointsBatchBody>
  const serverId = await serverIdOf(payload.patrolClientId)
  if (serverId === null) return noServerPatrol()
  const answer = await api.sendPoints(serverId, payload.body)
  return done(async () => {
    await recordBatchUploaded(payload.patrolClientId, payload.body.batch_id)
    // The server ended the patrol by itself (no fixes for a while, shift over): stop recording and say why.
    if (answer.ended_at) await endedByServerInTransaction(payload.patrolClientId, Date.parse(answer.ended_at), answer.end_reason ?? null)
  }, patrolTables())
}

async function sendEnd(item: OutboxRow) {
  const payload = item.payload as PatrolPayload<{ ended_at: string }>
  const serverId = await serverIdOf(payload.patrolClientId)
  if (serverId === null) return noServerPatrol()
  const answer = await api.endPatrol(serverId, payload.body.ended_at)
  return done(async () => {
    if (answer?.ended_at && answer.end_reason) await recordServerEnd(payload.patrolClientId, Date.parse(answer.ended_at), answer.end_reason)
  }, patrolTables())
}

registerSender(KIND_START, sendStart, () => ({ what: 'patrolStart', n: 1 }))
registerSender(KIND_POINTS, (item) => sendPoints(item), (item) => ({
  what: 'patrolPoints',
  n: (item.payload as PatrolPayload<PointsBatchBody>).body.points.length,
}))
registerSender(KIND_END, (item) => sendEnd(item), () => ({ what: 'patrolEnd', n: 1 }))
registerLocalPending(async (userId) => {
  const n = await uncutFixes(userId)
  return n ? [{ what: 'patrolPoints', n }] : []
})
