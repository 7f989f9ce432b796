// /api/v1/tasks (排班): leaders plan shifts for their squad's officers; each task comes with its progress.
import { request, requestRaw } from './http'

export interface TaskGridProgress {
  grid_id: number
  covered_ratio: number
  visits: number
}

export interface TaskProgress {
  covered_ratio: number
  /** the fewest visits of any of the task's grids */
  visits: number
  met: boolean
  grids: TaskGridProgress[]
}

export interface PlannedTask {
  id: number
  client_id: string
  officer_id: number
  officer_name: string | null
  squad_id: number | null
  date: string
  shift_start: string
  shift_end: string
  starts_at: string
  ends_at: string
  grid_ids: number[]
  coverage_target: number
  min_visits: number
  note: string | null
  progress: TaskProgress | null
}

export interface NewTask {
  /** made once per form on the phone, so a retry after a lost answer never creates a second task */
  client_id: string
  officer_id: number
  date: string
  shift_start: string
  shift_end: string
  grid_ids: number[]
  coverage_target?: number
  min_visits?: number
  note?: string
}

export interface TaskFilter {
  date?: string
  from?: string
  to?: string
  officer?: number
  squad?: number
}

/** 201 for a new task, 200 for a retry with the same client_id: both answer the task. */
export function createTask(body: NewTask): Promise<PlannedTask> {
  return request<PlannedTask>('POST', '/api/v1/tasks', { body })
}

/** The server answers a paginated list (X-Pagination); a day of one squad fits in one page of 500. */
export async function listTasks(filter: TaskFilter): Promise<PlannedTask[]> {
  const { data } = await requestRaw<PlannedTask[] | { items: PlannedTask[] }>('GET', '/api/v1/tasks', {
    query: { ...filter, page: 1, page_size: 500 },
  })
  if (Array.isArray(data)) return data
  return data?.items ?? []
}

export function getTask(id: number): Promise<PlannedTask> {
  return request<PlannedTask>('GET', `/api/v1/tasks/${id}`)
}

export async function deleteTask(id: number): Promise<void> {
  await request<null>('DELETE', `/api/v1/tasks/${id}`)
}
