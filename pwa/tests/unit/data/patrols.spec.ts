import { afterEach, describe, expect, it, vi } from 'vitest'
import Dexie from 'dexie'
import { PatrolServer } from './patrolServer'
import { loadApp, uniqueDbName } from '../appHarness'

afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

const OFFICER = 11
const T0 = Date.parse('2025-05-06T01:00:00Z')

async function setup(server = new PatrolServer(), dbName = uniqueDbName()) {
  const app = await loadApp(server, dbName)
  await app.login('officer1', 'gridpatrol-demo')
  const patrols = await import('@/data/patrols')
  const { drainOutbox } = await import('@/data/outboxDrain')
  // the upload button: every item now, whatever its backoff (the backoff itself is tested in outboxDrain.spec)
  const sync = { drainNow: (userId: number) => drainOutbox(userId, { force: true }) }
  return { app, server, patrols, sync, dbName }
}

function ok<T>(r: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!r.ok) throw r.error
  return r.value
}

const fix = (i: number, part = 0) => ({
  t: T0 + 1000 + i * 1000, lon: 115.5 + i * 1e-4, lat: 38.105, accuracyM: 5, speedMps: 1.2, headingDeg: null,
  altitudeM: null, part,
})

describe('patrol storage and outbox', () => {
  it('starts with no network: the patrol and its POST /patrols wait in IndexedDB, then the server id is mapped', async () => {
    const { app, server, patrols, sync } = await setup()
    server.offline = true
    const p = ok(await patrols.createPatrol({ userId: OFFICER, gridIds: [101, 102], now: T0 }))
    ok(await patrols.appendFix(p.clientId, fix(0)))
    expect(ok(await patrols.patrolPending(p.clientId))).toMatchObject({ fixes: 1, uncut: 1, items: 1, batches: 0 })

    expect((await sync.drainNow(OFFICER)).status).toBe('offline')
    expect(server.patrols).toHaveLength(0)

    server.offline = false
    expect(await sync.drainNow(OFFICER)).toMatchObject({ status: 'done', sent: 1 })
    expect(server.patrols[0]).toMatchObject({ client_id: p.clientId, grid_ids: [101, 102], started_at: new Date(T0).toISOString() })
    expect(ok(await patrols.getPatrol(p.clientId))?.serverId).toBe(server.patrols[0].id)
    const rows = await app.db.outbox.toArray()
    expect(rows).toHaveLength(0)
  })

  it('cuts batches whose body never changes, uploads them in order, and marks exactly their fixes uploaded', async () => {
    const { app, server, patrols, sync } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    for (let i = 0; i < 5; i++) ok(await patrols.appendFix(p.clientId, fix(i)))
    const [first] = ok(await patrols.cutBatch(p.clientId))
    for (let i = 5; i < 7; i++) ok(await patrols.appendFix(p.clientId, fix(i)))
    expect(ok(await patrols.patrolPending(p.clientId))).toMatchObject({ fixes: 7, uncut: 2, batches: 1, items: 2 })

    const item = (await app.db.outbox.where('clientId').equals(first).first())!
    const body = (item.payload as { body: { batch_id: string; points: { t: string }[] } }).body
    expect(body.batch_id).toBe(first)
    expect(body.points.map((x) => x.t)).toEqual([0, 1, 2, 3, 4].map((i) => new Date(fix(i).t).toISOString()))
    expect(body.points[0]).toEqual({ t: new Date(fix(0).t).toISOString(), lon: 115.5, lat: 38.105, accuracy_m: 5, speed_mps: 1.2 })

    ok(await patrols.cutBatch(p.clientId))
    expect(ok(await patrols.cutBatch(p.clientId))).toEqual([]) // nothing left to cut
    expect(await sync.drainNow(OFFICER)).toMatchObject({ status: 'done', sent: 3 })
    expect(server.patrols[0].points).toHaveLength(7)
    const sent = server.calls.filter((c) => c.path.endsWith('/points'))
    expect(sent[0].body).toEqual(body) // exactly what was stored when cut
    expect(ok(await patrols.patrolPending(p.clientId))).toMatchObject({ fixes: 0, uncut: 0, items: 0 })
    const fixes = ok(await patrols.loadFixes(p.clientId))
    expect(fixes.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(fixes.every((f) => f.uploaded === 1 && f.batchId !== '')).toBe(true)
  })

  it('a lost answer is retried with the identical body and the server stores every fix exactly once', async () => {
    const { server, patrols, sync } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    for (let i = 0; i < 4; i++) ok(await patrols.appendFix(p.clientId, fix(i)))
    ok(await patrols.cutBatch(p.clientId))
    expect((await sync.drainNow(OFFICER)).status).toBe('done')
    // the patrol is known; now the answer to the next batch is lost after the server stored it
    for (let i = 4; i < 9; i++) ok(await patrols.appendFix(p.clientId, fix(i)))
    ok(await patrols.cutBatch(p.clientId))
    server.loseAnswers = 1
    expect((await sync.drainNow(OFFICER)).status).toBe('offline')
    expect(server.patrols[0].points).toHaveLength(9) // stored, but the phone does not know
    expect(ok(await patrols.patrolPending(p.clientId)).fixes).toBe(5)

    expect((await sync.drainNow(OFFICER)).status).toBe('done')
    const tries = server.calls.filter((c) => c.path.endsWith('/points')).slice(-2)
    expect(tries[1].body).toEqual(tries[0].body)
    expect(server.patrols[0].points).toHaveLength(9)
    expect(ok(await patrols.patrolPending(p.clientId))).toMatchObject({ fixes: 0, items: 0 })
  })

  it('a lost answer to POST /patrols is retried with the same client_id: one patrol on the server', async () => {
    const { server, patrols, sync } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    server.loseAnswers = 1
    expect((await sync.drainNow(OFFICER)).status).toBe('offline')
    expect((await sync.drainNow(OFFICER)).status).toBe('done')
    expect(server.patrols).toHaveLength(1)
    expect(ok(await patrols.getPatrol(p.clientId))?.serverId).toBe(1)
  })

  it('batches and the end wait until the server has the patrol; nothing is sent out of order', async () => {
    const { server, patrols, sync } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    ok(await patrols.appendFix(p.clientId, fix(0)))
    ok(await patrols.finishPatrol(p.clientId, T0 + 5000, 'user'))
    server.failWith = { path: /^\/api\/v1\/patrols$/, status: 503, code: 'unavailable', times: 1 }
    expect((await sync.drainNow(OFFICER)).status).toBe('server')
    expect(server.calls.filter((c) => /\/points|\/end/.test(c.path))).toHaveLength(0)
    expect((await sync.drainNow(OFFICER)).status).toBe('done')
    const order = server.calls.filter((c) => c.path.startsWith('/api/v1/patrols')).map((c) => c.path.replace(/patrols\/\d+/, 'patrols/N'))
    expect(order).toEqual(['/api/v1/patrols', '/api/v1/patrols', '/api/v1/patrols/N/points', '/api/v1/patrols/N/end'])
    expect(server.patrols[0].ended_at).toBe(new Date(T0 + 5000).toISOString())
  })

  it('a refused batch stays with its message and holds back that patrol only', async () => {
    const { server, patrols, sync } = await setup()
    const a = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    ok(await patrols.appendFix(a.clientId, fix(0)))
    ok(await patrols.finishPatrol(a.clientId, T0 + 5000, 'user'))
    const b = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 + 10_000 }))
    server.failWith = { path: /\/points$/, status: 409, code: 'duplicate', times: 1 }
    const report = await sync.drainNow(OFFICER)
    expect(report).toMatchObject({ status: 'done', refused: 1 })
    expect(ok(await patrols.patrolPending(a.clientId))).toMatchObject({ items: 2, lastError: 'refused duplicate' })
    expect(server.patrols.map((p) => p.client_id)).toEqual([a.clientId, b.clientId])
    expect(server.patrols[0].ended_at).toBeNull() // the end waits behind the refused batch
  })

  it('starts without the grids the server no longer gives this officer', async () => {
    const { app, server, patrols, sync } = await setup()
    server.unknownGrids = [102]
    const p = ok(await patrols.createPatrol({ userId: OFFICER, gridIds: [101, 102], now: T0 }))
    expect((await sync.drainNow(OFFICER)).status).toBe('done')
    expect(server.patrols[0]).toMatchObject({ client_id: p.clientId, grid_ids: [101] })
    expect(await app.db.outbox.count()).toBe(0)
  })

  it('a task deleted while the phone was offline does not strand the patrol: it starts on the same grids', async () => {
    const { app, server, patrols, sync } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, taskId: 9, gridIds: [101], shiftEndsAt: T0 + 3600_000, now: T0 }))
    server.failWith = { path: /^\/api\/v1\/patrols$/, status: 400, code: 'task_not_yours', times: 1 }
    expect((await sync.drainNow(OFFICER)).status).toBe('done')
    const starts = server.calls.filter((c) => c.path === '/api/v1/patrols').map((c) => c.body)
    expect(starts).toEqual([
      { client_id: p.clientId, started_at: new Date(T0).toISOString(), task_id: 9, grid_ids: [101] },
      { client_id: p.clientId, started_at: new Date(T0).toISOString(), grid_ids: [101] },
    ])
    expect(server.patrols[0]).toMatchObject({ client_id: p.clientId, task_id: null, grid_ids: [101] })
    expect(await app.db.outbox.count()).toBe(0)
  })

  it('does not store the same fix twice (same time delivered again, or to a second tab)', async () => {
    const { patrols } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    expect(ok(await patrols.appendFix(p.clientId, fix(0)))?.seq).toBe(0)
    expect(ok(await patrols.appendFix(p.clientId, fix(0)))).toBeNull()
    expect(ok(await patrols.appendFix(p.clientId, fix(1)))?.seq).toBe(1)
  })

  it('ending twice keeps the first end and queues one end', async () => {
    const { app, patrols } = await setup()
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    ok(await patrols.appendFix(p.clientId, fix(0)))
    expect(ok(await patrols.finishPatrol(p.clientId, T0 + 5000, 'user'))?.endedAt).toBe(T0 + 5000)
    expect(ok(await patrols.finishPatrol(p.clientId, T0 + 9000, 'user'))?.endedAt).toBe(T0 + 5000)
    const kinds = (await app.db.outbox.toArray()).map((r) => r.kind)
    expect(kinds).toEqual(['patrol.start', 'patrol.points', 'patrol.end'])
  })

  it('runs one drain at a time: with the outbox lock held elsewhere it reports busy and sends nothing', async () => {
    const { server, patrols, sync } = await setup()
    ok(await patrols.createPatrol({ userId: OFFICER, now: T0 }))
    const request = vi.fn((_name: string, _opts: unknown, cb: (lock: null) => unknown) => Promise.resolve(cb(null)))
    vi.stubGlobal('navigator', { ...navigator, locks: { request } })
    expect((await sync.drainNow(OFFICER)).status).toBe('busy')
    expect(request).toHaveBeenCalledWith('outbox', { ifAvailable: true }, expect.any(Function))
    expect(server.patrols).toHaveLength(0)
  })

  it('opens a version 1 database at the current version and keeps its rows', async () => {
    const name = uniqueDbName()
    const v1 = new Dexie(name)
    v1.version(1).stores({
      kv: 'key', sessions: 'userId', profiles: 'userId', areas: '[userId+id], userId, [userId+kind]',
      outbox: '++seq, userId, &clientId, createdAt',
    })
    await v1.table('kv').put({ key: 'currentUserId', value: 11 })
    await v1.table('outbox').add({ userId: 11, clientId: 'r1', kind: 'report', payload: 1, createdAt: 1, attempts: 0, lastError: null })
    v1.close()
    const { GridPatrolDB } = await import('@/data/db')
    const v2 = new GridPatrolDB(name)
    await v2.open()
    expect(v2.verno).toBe(3)
    expect(await v2.kv.get('currentUserId')).toEqual({ key: 'currentUserId', value: 11 })
    expect(await v2.outbox.count()).toBe(1)
    expect(await v2.patrols.count()).toBe(0)
    v2.close()
  })
})
