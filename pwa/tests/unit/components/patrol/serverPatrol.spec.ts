// The patrol against the server of issue 9: batches from the first seconds on, a patrol the server ends by
// itself, one running elsewhere (continue it here or end it), and a start refused because one runs already.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PatrolServer } from '../../data/patrolServer'
import { loadApp, uniqueDbName } from '../../appHarness'
import { FakeGeolocation } from './fakeGeolocation'
import { eventually } from '../../eventually'


let geo: FakeGeolocation
let stores: { resetPatrolStore(): void }[] = []

beforeEach(() => {
  geo = new FakeGeolocation()
  Object.defineProperty(navigator, 'geolocation', { value: geo, configurable: true })
  Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
})

afterEach(() => {
  for (const s of stores) s.resetPatrolStore()
  stores = []
  vi.useRealTimers()
  vi.unstubAllGlobals()
})

async function page(server: PatrolServer, dbName = uniqueDbName()) {
  const app = await loadApp(server, dbName)
  await app.login('officer1', 'gridpatrol-demo')
  await app.sync()
  const store = await import('@/components/patrol/usePatrol')
  stores.push(store)
  await store.ensurePatrolRestored()
  return { app, store }
}

const LON = 115.505
const lat = (i: number) => 38.102 + i * 1e-4

const pointCalls = (server: PatrolServer) => server.calls.filter((c) => c.path.endsWith('/points'))

describe('patrol uploads', () => {
  it('sends the first batch a few seconds after the first fix, then every few seconds, while online', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    vi.setSystemTime(Date.parse('2025-05-06T01:00:00Z'))
    const server = new PatrolServer()
    const { store } = await page(server)
    await store.startPatrol()
    const t0 = Date.now()
    geo.emit(LON, lat(0), t0)
    await eventually(() => expect(store.patrol.fixCount).toBe(1))
    vi.advanceTimersByTime(1000)
    expect(pointCalls(server)).toHaveLength(0)
    vi.advanceTimersByTime(2000) // 3 s after the first fix
    await eventually(() => expect(pointCalls(server)).toHaveLength(1))
    for (let i = 1; i <= 12; i++) {
      vi.advanceTimersByTime(1000)
      geo.emit(LON, lat(i), Date.now())
      await eventually(() => expect(store.patrol.fixCount).toBe(i + 1))
    }
    // the next ones every ~10 s, not after a minute (waiting advances the faked clock too, so count at least)
    await eventually(() => expect(pointCalls(server).length).toBeGreaterThanOrEqual(2))
    expect(Date.now() - t0).toBeLessThan(30_000)
    expect(server.patrols[0].points.length).toBeGreaterThanOrEqual(10)
  })
})

describe('a patrol the server ends by itself', () => {
  it('stops recording when a batch answer says the server ended it, and says why', async () => {
    const server = new PatrolServer()
    server.oneRunning = true
    const { store } = await page(server)
    await store.startPatrol()
    const t0 = store.patrol.row!.startedAt
    geo.emit(LON, lat(0), t0 + 1000)
    await eventually(() => expect(store.patrol.fixCount).toBe(1))
    await store.syncNow()
    expect(server.patrols[0].points).toHaveLength(1)
    server.endByServer(1, 'idle', new Date(t0 + 5000).toISOString())

    geo.emit(LON, lat(1), t0 + 2000)
    await eventually(() => expect(store.patrol.fixCount).toBe(2))
    await store.syncNow()
    await eventually(() => expect(store.patrol.recording).toBe(false))
    expect(store.patrol.row).toMatchObject({ endedAt: t0 + 5000, endReason: 'idle', endedByServer: true })
    expect(geo.watchers.size).toBe(0)
    // the phone does not end it again: no end was queued
    expect(server.calls.some((c) => c.path.endsWith('/end'))).toBe(false)
    const { t } = await import('@/i18n')
    expect(t('patrol.serverEnded.idle', { time: '09:00' })).toMatch(/太久没有收到定位.*请重新开始巡查/)
  })

  it('learns after a reload that the server ended its running patrol meanwhile', async () => {
    const server = new PatrolServer()
    server.oneRunning = true
    const dbName = uniqueDbName()
    const first = await page(server, dbName)
    await first.store.startPatrol()
    await first.store.syncNow()
    expect(server.patrols).toHaveLength(1)
    first.store.resetPatrolStore()
    server.endByServer(1, 'shift_end', new Date(Date.now() + 1000).toISOString())

    const { store } = await page(server, dbName)
    await eventually(() => expect(store.patrol.row?.endReason).toBe('shift_end'))
    expect(store.patrol.recording).toBe(false)
    expect(store.patrol.row?.endedByServer).toBe(true)
  })
})

describe('a patrol running on the server that this phone is not recording', () => {
  it('is shown after login; a new start is not offered; continuing records this phone into it', async () => {
    const server = new PatrolServer()
    server.oneRunning = true
    const other = server.startElsewhere(11, 'other-phone', new Date(Date.now() - 600_000).toISOString())
    const { store } = await page(server)
    await eventually(() => expect(store.serverPatrol.running?.id).toBe(other.id))
    expect(await store.startPatrol()).toBe(false) // it would be a second running patrol
    expect(server.patrols).toHaveLength(1)

    expect(await store.resumeServerPatrol()).toBe(true)
    expect(store.patrol.recording).toBe(true)
    expect(store.patrol.row).toMatchObject({ clientId: 'other-phone', serverId: other.id })
    const t = Date.now()
    geo.emit(LON, lat(0), t + 1000)
    geo.emit(LON, lat(1), t + 2000)
    await eventually(() => expect(store.patrol.fixCount).toBe(2))
    await store.syncNow()
    expect(server.patrols).toHaveLength(1)
    expect(other.points).toHaveLength(2)
    expect(server.calls.filter((c) => c.method === 'POST' && c.path === '/api/v1/patrols')).toHaveLength(0)
    await store.stopPatrol()
    await eventually(() => expect(other.ended_at).not.toBeNull())
  })

  it('can be ended from this phone; it ends when it was last seen, and a new patrol can start', async () => {
    const server = new PatrolServer()
    server.oneRunning = true
    const other = server.startElsewhere(11, 'other-phone', new Date(Date.now() - 600_000).toISOString())
    other.last_seen_at = new Date(Date.now() - 300_000).toISOString()
    const { store } = await page(server)
    await eventually(() => expect(store.serverPatrol.running).not.toBeNull())
    expect(await store.endServerPatrol()).toBe(true)
    expect(store.serverPatrol.running).toBeNull()
    await eventually(() => expect(other.ended_at).toBe(other.last_seen_at))
    expect(await store.startPatrol()).toBe(true)
    await eventually(() => expect(server.patrols).toHaveLength(2))
  })
})

describe('asking the server for a running patrol', () => {
  it('sends one request for calls made while one is on its way (the home asked twice at start-up)', async () => {
    const server = new PatrolServer()
    const { store } = await page(server)
    await eventually(() => expect(server.calls.filter((c) => c.path.includes('active=true')).length).toBeGreaterThan(0))
    server.calls = []
    await Promise.all([store.checkServerPatrol(), store.checkServerPatrol(), store.checkServerPatrol()])
    expect(server.calls.filter((c) => c.path.includes('active=true'))).toHaveLength(1)
    await store.checkServerPatrol() // a later call asks again
    expect(server.calls.filter((c) => c.path.includes('active=true'))).toHaveLength(2)
  })

  it('does not let a call made under other connectivity join one on its way (back online: ask afresh)', async () => {
    const server = new PatrolServer()
    const { app, store } = await page(server)
    await eventually(() => expect(server.calls.filter((c) => c.path.includes('active=true')).length).toBeGreaterThan(0))
    server.calls = []
    app.online.value = false
    const sentOffline = store.checkServerPatrol()
    app.online.value = true
    await Promise.all([sentOffline, store.checkServerPatrol()])
    expect(server.calls.filter((c) => c.path.includes('active=true'))).toHaveLength(2)
  })
})

describe('a start refused because another patrol runs (409 patrol_running)', () => {
  async function refusedStart() {
    const server = new PatrolServer()
    server.oneRunning = true
    const { store, app } = await page(server)
    server.offline = true
    await store.startPatrol() // offline: recorded here
    const t0 = store.patrol.row!.startedAt
    for (let i = 0; i < 3; i++) geo.emit(LON, lat(i), t0 + (i + 1) * 1000)
    await eventually(() => expect(store.patrol.fixCount).toBe(3))
    const other = server.startElsewhere(11, 'other-phone', new Date(t0 - 60_000).toISOString())
    server.offline = false
    await store.syncNow()
    await eventually(() => expect(store.patrol.row?.conflict?.id).toBe(other.id))
    expect(store.patrol.recording).toBe(true) // recording goes on; nothing is lost
    return { server, store, app, other }
  }

  it('keeps the fixes, says so, and merges this phone\'s track into the running one when asked', async () => {
    const { server, store, other } = await refusedStart()
    expect(store.patrol.pending).toMatchObject({ start: true, lastErrorCode: 'patrol_running' })
    expect(await store.mergeIntoConflict()).toBe(true)
    await eventually(() => expect(other.points).toHaveLength(3))
    expect(store.patrol.row?.serverId).toBe(other.id)
    expect(server.patrols).toHaveLength(1)
    await eventually(() => expect(store.patrol.pending).toMatchObject({ items: 0, fixes: 0 }))
  })

  it('or ends the running one and uploads this patrol as its own', async () => {
    const { server, store, other } = await refusedStart()
    expect(await store.endConflictAndUpload()).toBe(true)
    expect(other.ended_at).not.toBeNull()
    await eventually(() => expect(server.patrols).toHaveLength(2))
    await eventually(() => expect(server.patrols[1].points).toHaveLength(3))
    expect(server.patrols[1].client_id).toBe(store.patrol.row?.clientId)
    expect(store.patrol.row?.conflict).toBeNull()
  })

  it('ending the running one needs the network: offline it says so and changes nothing', async () => {
    const { server, store, other } = await refusedStart()
    server.offline = true
    expect(await store.endConflictAndUpload()).toBe(false)
    expect(other.ended_at).toBeNull()
    expect(store.patrol.row?.conflict?.id).toBe(other.id)
  })
})
