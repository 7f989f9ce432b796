// Today's tasks on the officer home: from the server, kept for offline, hidden when the server has none.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PatrolServer } from '../../data/patrolServer'
import { loadApp, uniqueDbName } from '../../appHarness'

afterEach(() => vi.unstubAllGlobals())

const task = {
  id: 5, client_id: 'task-0005', officer_id: 11, officer_name: 'officer1', squad_id: 1, date: '2025-05-06',
  shift_start: '08:00', shift_end: '12:00', starts_at: '2025-05-06T00:00:00+00:00', ends_at: '2025-05-06T04:00:00+00:00',
  grid_ids: [101], coverage_target: 0.8, min_visits: 1, note: '', progress: null,
}

describe('useTasks', () => {
  it('days are Asia/Shanghai days', async () => {
    const { todayLocal } = await import('@/components/patrol/useTasks')
    expect(todayLocal(new Date('2025-05-06T15:59:00Z'))).toBe('2025-05-06')
    expect(todayLocal(new Date('2025-05-06T16:00:00Z'))).toBe('2025-05-07')
  })

  it('asks for today, keeps the answer for offline use, and shows it from the device when offline', async () => {
    const server = new PatrolServer()
    server.tasks = [task]
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    const { loadTasks, tasks, todayLocal } = await import('@/components/patrol/useTasks')
    await loadTasks()
    expect(server.calls.at(-1)?.path).toBe(`/api/v1/me/tasks?date=${todayLocal()}`)
    expect(tasks).toMatchObject({ available: true, fromCache: false, items: [task] })

    server.offline = true
    await loadTasks()
    expect(tasks).toMatchObject({ available: true, fromCache: true, items: [task] })
  })

  it('hides the card when the server has no /me/tasks', async () => {
    const server = new PatrolServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    const { loadTasks, tasks } = await import('@/components/patrol/useTasks')
    await loadTasks()
    expect(tasks).toMatchObject({ available: false, items: [] })
  })

  it('the next task is the earliest whose shift is not over, whatever order the server sent', async () => {
    const { nextTask, tasks } = await import('@/components/patrol/useTasks')
    const afternoon = { ...task, id: 7, shift_start: '14:00', shift_end: '18:00', starts_at: '2025-05-06T06:00:00+00:00', ends_at: '2025-05-06T10:00:00+00:00' }
    tasks.items = [afternoon, task]
    expect(nextTask(Date.parse('2025-05-06T01:00:00Z'))?.id).toBe(5) // morning shift running
    expect(nextTask(Date.parse('2025-05-06T04:00:00Z'))?.id).toBe(7) // morning over at 12:00 local
    expect(nextTask(Date.parse('2025-05-06T10:00:00Z'))).toBeNull() // both over: a free patrol
  })
})
