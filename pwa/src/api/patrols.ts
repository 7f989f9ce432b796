// /api/v1/patrols: start, batches of fixes, end, read one, its coverage; and the officer's tasks of a day.
import { request } from './http'
import type { PlannedTask } from './tasks'
import type { BatchAnswer, GridCoverageItem, Patrol, PatrolStartBody, PointsBatchBody } from './types'

/** 201 for a new patrol, 200 for a retry with the same client_id: both answer the patrol. */
export function startPatrol(body: PatrolStartBody): Promise<Patrol> {
  return request<Patrol>('POST', '/api/v1/patrols', { body })
}

/** Idempotent on batch_id: the same body again changes nothing and answers the same. */
export function sendPoints(patrolId: number, body: PointsBatchBody): Promise<BatchAnswer> {
  return request<BatchAnswer>('POST', `/api/v1/patrols/${patrolId}/points`, { body })
}

export function endPatrol(patrolId: number, endedAt: string): Promise<Patrol> {
  return request<Patrol>('POST', `/api/v1/patrols/${patrolId}/end`, { body: { ended_at: endedAt } })
}

export function getPatrol(patrolId: number): Promise<Patrol> {
  return request<Patrol>('GET', `/api/v1/patrols/${patrolId}`)
}

export async function getPatrolCoverage(patrolId: number): Promise<GridCoverageItem[]> {
  const data = await request<{ items: GridCoverageItem[] }>('GET', `/api/v1/patrols/${patrolId}/coverage`)
  return data?.items ?? []
}

/** GET /me/tasks?date= (default today on the server): the officer's own shifts, which patrols start from. */
export async function getMyTasks(date?: string): Promise<PlannedTask[]> {
  const data = await request<{ items: PlannedTask[] }>('GET', '/api/v1/me/tasks', { query: { date } })
  return data?.items ?? []
}

/** The officer's patrols the server still has running (at most one: the server allows one per officer). */
export async function listRunningPatrols(officerId: number): Promise<Patrol[]> {
  const data = await request<Patrol[] | { items: Patrol[] }>('GET', '/api/v1/patrols', {
    query: { active: 'true', officer: officerId, page: 1, page_size: 10 },
  })
  return (Array.isArray(data) ? data : data?.items ?? []).filter((p) => p.ended_at === null)
}
