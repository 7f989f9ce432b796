// Uploads the patrol items of the outbox in their order, under the 'outbox' Web Lock so that two tabs never
// send at once; drained on start, on `online`, when the page becomes visible, on a timer, after each batch cut
// and by a button. Exactly-once comes from the server: client_id and batch_id make every retry harmless.
import { ApiError, AuthExpiredError, OfflineError, onConnectivity } from '@/api/http'
import * as api from '@/api/patrols'
import type { PatrolStartBody, PointsBatchBody } from '@/api/types'
import type { StorageError } from './db'
import {
  KIND_END, KIND_POINTS, KIND_START, getPatrol, markBatchUploaded, markStarted, noteAttempt, patrolOutboxItems,
  removeItem, updateStartBody, type PatrolPayload,
} from './patrols'

export type DrainStatus = 'done' | 'busy' | 'offline' | 'auth' | 'server' | 'storage'

export interface DrainReport {
  status: DrainStatus
  /** items the server confirmed in this run */
  sent: number
  /** items the server refused (4xx): kept with their error, later items of the same patrol wait */
  refused: number
  error?: StorageError
}

let running = false
let again = false

/** Run `fn` only if nobody (this tab or another) is draining; null when busy. */
async function withOutboxLock<T>(fn: () => Promise<T>): Promise<T | null> {
  if (running) return null
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  const guarded = async () => {
    running = true
    try {
      return await fn()
    } finally {
      running = false
    }
  }
  if (locks?.request) return locks.request('outbox', { ifAvailable: true }, (lock) => (lock ? guarded() : null))
  return guarded() // no Web Locks (old webviews): one drain per tab, and the server's ids keep it exactly-once
}

/** Upload what can be uploaded now. A drain asked for while one runs makes that one go round again. */
export async function drainPatrolOutbox(userId: number): Promise<DrainReport> {
  const report = await withOutboxLock(async () => {
    let r: DrainReport
    do {
      again = false
      r = await drainOnce(userId)
    } while (again && r.status === 'done')
    return r
  })
  if (report === null) {
    again = true
    return { status: 'busy', sent: 0, refused: 0 }
  }
  return report
}

async function drainOnce(userId: number): Promise<DrainReport> {
  const items = await patrolOutboxItems(userId)
  if (!items.ok) return { status: 'storage', sent: 0, refused: 0, error: items.error }
  const waiting = new Set<string>() // patrols whose earlier item did not go: their later items must wait
  let sent = 0
  let refused = 0
  const stop = (status: DrainStatus, error?: StorageError): DrainReport => ({ status, sent, refused, error })

  for (const item of items.value) {
    const seq = item.seq!
    const payload = item.payload as PatrolPayload
    const pc = payload.patrolClientId
    if (waiting.has(pc)) continue
    const patrol = await getPatrol(pc)
    if (!patrol.ok) return stop('storage', patrol.error)
    try {
      if (item.kind === KIND_START) {
        const answer = await sendStart(seq, payload as PatrolPayload<PatrolStartBody>)
        const shiftEnds = answer.shift_ends_at ? Date.parse(answer.shift_ends_at) : null
        const w = await markStarted(seq, pc, answer.id, shiftEnds)
        if (!w.ok) return stop('storage', w.error)
      } else {
        const serverId = patrol.value?.serverId ?? null
        if (serverId === null) {
          waiting.add(pc)
          continue
        }
        if (item.kind === KIND_POINTS) {
          const body = payload.body as PointsBatchBody
          await api.sendPoints(serverId, body)
          const w = await markBatchUploaded(seq, pc, body.batch_id)
          if (!w.ok) return stop('storage', w.error)
        } else if (item.kind === KIND_END) {
          await api.endPatrol(serverId, (payload.body as { ended_at: string }).ended_at)
          const w = await removeItem(seq)
          if (!w.ok) return stop('storage', w.error)
        }
      }
      sent++
    } catch (err) {
      if (err instanceof OfflineError) return stop('offline')
      if (err instanceof AuthExpiredError || (err instanceof ApiError && err.status === 401)) return stop('auth')
      const message = err instanceof Error ? err.message : String(err)
      await noteAttempt(seq, message)
      if (err instanceof ApiError && (err.status >= 500 || err.status === 408 || err.status === 429)) return stop('server')
      // Refused (400/403/404/409): kept, shown with its message; this patrol's later items wait behind it.
      refused++
      waiting.add(pc)
    }
  }
  return stop('done')
}

/**
 * POST /patrols. The fixes were recorded whatever the server now thinks of the plan, so a refusal of the plan
 * must not strand them: a task deleted or over meanwhile -> start as a patrol of the same grids without the task;
 * grids no longer this officer's -> start without those. The changed body is stored before it is sent.
 */
async function sendStart(seq: number, payload: PatrolPayload<PatrolStartBody>) {
  let body = payload.body
  for (let round = 0; ; round++) {
    try {
      return await api.startPatrol(body)
    } catch (err) {
      const next = round < 2 && err instanceof ApiError && err.status === 400 ? withoutRefused(body, err) : null
      if (!next) throw err
      const w = await updateStartBody(seq, { ...payload, body: next })
      if (!w.ok) throw w.error
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

export const DRAIN_INTERVAL_MS = 20_000

export interface SyncTriggers {
  /** who is logged in now (null: nothing to drain) */
  userId(): number | null
  /** after every drain that ran */
  onDrained(report: DrainReport): void
}

let installed: (() => void) | null = null
let triggers: SyncTriggers | null = null

/** Drain now for the current user and tell the listener. */
export async function requestDrain(): Promise<DrainReport | null> {
  const userId = triggers?.userId() ?? null
  if (userId === null) return null
  const report = await drainPatrolOutbox(userId)
  if (report.status !== 'busy') triggers?.onDrained(report)
  return report
}

/** Install the drain triggers once (online, visible, server reachable again, timer). Returns an uninstaller. */
export function startPatrolSync(t: SyncTriggers): () => void {
  triggers = t
  if (installed) return installed
  const kick = () => void requestDrain()
  const onVisible = () => {
    if (document.visibilityState === 'visible') kick()
  }
  window.addEventListener('online', kick)
  document.addEventListener('visibilitychange', onVisible)
  let wasReachable = true
  const off = onConnectivity((reachable) => {
    if (reachable && !wasReachable) kick()
    wasReachable = reachable
  })
  const timer = setInterval(kick, DRAIN_INTERVAL_MS)
  installed = () => {
    window.removeEventListener('online', kick)
    document.removeEventListener('visibilitychange', onVisible)
    off()
    clearInterval(timer)
    installed = null
    triggers = null
  }
  return installed
}
