// Tasks (排班) through the outbox: saved on the phone first, shown as pending, sent once whatever the network does.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PatrolServer } from './patrolServer'
import { loadApp, uniqueDbName } from '../appHarness'
import type { NewTask } from '@/api/tasks'

afterEach(() => vi.unstubAllGlobals())

const LEADER = 12
const body = (clientId: string): NewTask => ({
  client_id: clientId, officer_id: 11, date: '2025-05-06', shift_start: '08:30', shift_end: '12:00', grid_ids: [101, 102],
  coverage_target: 0.8, min_visits: 1, note: '重点检查河道',
})

async function setup() {
  const server = new PatrolServer()
  const app = await loadApp(server, uniqueDbName())
  await app.login('leader1', 'gridpatrol-demo')
  const tasks = await import('@/data/tasks')
  const { drainOutbox } = await import('@/data/outboxDrain')
  const { outboxSummary } = await import('@/data/outboxSummary')
  return { app, server, tasks, drainOutbox, outboxSummary }
}

function ok<T>(r: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!r.ok) throw r.error
  return r.value
}

describe('tasks through the outbox', () => {
  it('a task made offline waits as pending, then reaches the server exactly once, also after a lost answer', async () => {
    const { server, tasks, drainOutbox, outboxSummary } = await setup()
    server.offline = true
    ok(await tasks.queueTask(LEADER, body('t-1')))
    ok(await tasks.queueTask(LEADER, body('t-1'))) // the same form saved twice: one task
    expect((await drainOutbox(LEADER)).status).toBe('offline')
    expect(ok(await tasks.pendingTasks(LEADER)).map((p) => [p.body.client_id, p.state])).toEqual([['t-1', 'pending']])
    expect(ok(await outboxSummary(LEADER)).lines).toEqual([{ what: 'task', n: 1 }])

    server.offline = false
    server.loseAnswers = 1 // stored, but the phone never hears it
    expect((await drainOutbox(LEADER)).status).toBe('offline')
    expect(server.createdTasks.size).toBe(1)
    expect(await drainOutbox(LEADER)).toMatchObject({ status: 'done', sent: 1, sentKinds: { 'task.create': 1 } })
    const posts = server.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/tasks')
    // offline, answer lost, stored: three tries of the identical request
    expect(posts.map((c) => (c.body as NewTask).client_id)).toEqual(['t-1', 't-1', 't-1'])
    for (const p of posts) expect(p.body).toEqual(body('t-1'))
    expect(server.createdTasks.size).toBe(1)
    expect(ok(await tasks.pendingTasks(LEADER))).toEqual([])
  })

  it('a refused task says why, does not hold back other tasks, and its owner can give it up', async () => {
    const { server, tasks, drainOutbox, app } = await setup()
    ok(await tasks.queueTask(LEADER, body('bad')))
    ok(await tasks.queueTask(LEADER, body('good')))
    server.failWith = { path: /^\/api\/v1\/tasks$/, status: 400, code: 'validation_error', times: 1 }
    expect(await drainOutbox(LEADER)).toMatchObject({ status: 'done', sent: 1, refused: 1 })
    expect([...server.createdTasks.keys()]).toEqual(['good'])
    const [refused] = ok(await tasks.pendingTasks(LEADER))
    expect(refused).toMatchObject({ state: 'refused', lastError: 'refused validation_error', lastErrorCode: 'validation_error' })
    const outbox = await import('@/data/outbox')
    expect(ok(await outbox.discardRefused(refused.seq, LEADER))).toBe(true)
    expect(await app.db.outbox.count()).toBe(0)
  })
})
