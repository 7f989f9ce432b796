// The patrol store with a scripted geolocation: recording only while a patrol runs, every fix stored,
// gaps said and broken, the shift end, wake lock, the server's coverage once all is uploaded, and a reload.
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
  Object.defineProperty(navigator, 'wakeLock', { value: undefined, configurable: true })
})

/** A fresh page over the same IndexedDB (a reload when dbName is reused). */
async function page(server: PatrolServer, dbName: string, login = true) {
  const app = await loadApp(server, dbName)
  if (login) await app.login('officer1', 'gridpatrol-demo')
  await app.sync()
  const store = await import('@/components/patrol/usePatrol')
  stores.push(store)
  await store.ensurePatrolRestored()
  return { app, store, patrols: await import('@/data/patrols') }
}

// Grid 101 of the mock server is the square lon 115.50–115.51, lat 38.10–38.11.
const LON = 115.505
const lat = (i: number) => 38.102 + i * 1e-4 // ~11 m a step

async function settle(store: { patrol: { fixCount: number } }, n: number) {
  await eventually(() => expect(store.patrol.fixCount).toBe(n))
}

describe('usePatrol', () => {
  it('records only while a patrol runs, stores every fix, estimates, then shows the server figure once uploaded', async () => {
    // The clock stands still: the first batch goes 3 s after the first fix, and on a slow machine that could
    // happen between two lines of this test, which looks at what waits before the upload button is pressed.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    const server = new PatrolServer()
    const { store, app } = await page(server, uniqueDbName())
    geo.emit(LON, lat(0), Date.now())
    expect(geo.watchers.size).toBe(0) // off duty: no watch at all

    expect(await store.startPatrol()).toBe(true)
    expect(geo.watchers.size).toBe(1)
    expect([...geo.watchers.values()][0].opts).toMatchObject({ enableHighAccuracy: true })
    const t0 = store.patrol.row!.startedAt
    geo.emit(LON, lat(0), t0 - 5000) // a cached position from before the start is not this patrol's
    for (let i = 0; i < 5; i++) geo.emit(LON, lat(i), t0 + (i + 1) * 2000)
    await settle(store, 5)
    expect(store.patrol.currentGridId).toBe(101)
    expect(store.patrol.distanceM).toBeCloseTo(44.5, 0)
    expect(store.trackParts.value).toHaveLength(1)
    expect(store.shownCoverage(101)).toMatchObject({ source: 'estimate' })
    expect(store.patrol.estimate[101]).toBeGreaterThan(0)
    // the count of what waits is read back from IndexedDB after each fix is stored: it settles a moment later
    await eventually(() => expect(store.patrol.pending).toMatchObject({ fixes: 5, uncut: 5 }))

    server.coverage = [{ grid_id: 101, covered_ratio: 0.0421, covered_m2: 4210 }]
    await store.syncNow()
    await eventually(() => expect(store.shownCoverage(101)).toEqual({ gridId: 101, ratio: 0.0421, source: 'server' }))
    expect(server.patrols[0].points).toHaveLength(5)
    expect(store.patrol.pending).toMatchObject({ fixes: 0, items: 0 })

    geo.emit(LON, lat(5), t0 + 12_000) // a new fix: back to the estimate until it is uploaded
    await settle(store, 6)
    expect(store.shownCoverage(101)?.source).toBe('estimate')

    await store.stopPatrol()
    expect(geo.watchers.size).toBe(0)
    expect(store.patrol.recording).toBe(false)
    await eventually(() => expect(server.patrols[0].ended_at).not.toBeNull())
    expect(server.patrols[0].points).toHaveLength(6)
    await eventually(() => expect(app.session.pending).toBe(0))
  })

  it('survives a reload mid-patrol offline: the patrol, its fixes and its queue come back; every fix arrives once', async () => {
    const server = new PatrolServer()
    const dbName = uniqueDbName()
    const first = await page(server, dbName)
    await first.store.startPatrol()
    const clientId = first.store.patrol.row!.clientId
    const t0 = first.store.patrol.row!.startedAt
    for (let i = 0; i < 3; i++) geo.emit(LON, lat(i), t0 + (i + 1) * 1000)
    await settle(first.store, 3)
    server.offline = true
    geo.emit(LON, lat(3), t0 + 4000)
    await settle(first.store, 4)
    await first.store.syncNow() // offline: cut, kept
    first.store.resetPatrolStore() // the page goes away; nothing is ended

    const second = await page(server, dbName, false)
    const { store } = second
    expect(store.patrol.row?.clientId).toBe(clientId)
    expect(store.patrol.recording).toBe(true)
    expect(store.patrol.fixCount).toBe(4)
    expect(store.trackParts.value[0]).toHaveLength(4)
    expect(geo.watchers.size).toBe(1)
    geo.emit(LON, lat(4), t0 + 5000)
    geo.emit(LON, lat(5), t0 + 6000)
    await settle(store, 6)
    expect(store.trackParts.value).toHaveLength(1) // 1 s apart: no gap, one line

    server.offline = false
    await store.syncNow()
    await store.stopPatrol()
    await eventually(() => expect(server.patrols[0]?.ended_at).not.toBeNull())
    expect(server.patrols).toHaveLength(1)
    expect(server.patrols[0].points.map((p) => p.t)).toEqual(
      [1, 2, 3, 4, 5, 6].map((i) => new Date(t0 + i * 1000).toISOString()),
    )
    const fixes = await second.patrols.loadFixes(clientId)
    expect(fixes.ok && fixes.value.map((f) => f.seq)).toEqual([0, 1, 2, 3, 4, 5])
  })

  it('says when no fix came for more than 30 s and why, and breaks the line there', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] })
    vi.setSystemTime(Date.parse('2025-05-06T01:00:00Z'))
    const server = new PatrolServer()
    const { store } = await page(server, uniqueDbName())
    await store.startPatrol()
    const t0 = Date.now()
    geo.emit(LON, lat(0), t0 + 1000)
    await settle(store, 1)
    vi.advanceTimersByTime(20_000)
    expect(store.patrol.gap).toBeNull()
    vi.advanceTimersByTime(12_000)
    expect(store.patrol.gap).toMatchObject({ reason: 'waiting', seconds: 31 })

    Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true })
    document.dispatchEvent(new Event('visibilitychange'))
    vi.advanceTimersByTime(30_000)
    Object.defineProperty(document, 'visibilityState', { value: 'visible', configurable: true })
    document.dispatchEvent(new Event('visibilitychange'))
    expect(store.patrol.gap).toMatchObject({ reason: 'hidden', seconds: 61 })

    geo.emit(LON, lat(1), Date.now())
    geo.emit(LON, lat(2), Date.now() + 1000)
    await settle(store, 3)
    expect(store.patrol.gap).toBeNull()
    expect(store.trackParts.value.map((p) => p.length)).toEqual([1, 2])
    expect(store.patrol.breaks).toBe(1)
    expect(store.patrol.distanceM).toBeCloseTo(11.1, 0) // the jump across the gap is not distance
  })

  it('stops recording at once when the officer logs out; the patrol resumes after the next login', async () => {
    const server = new PatrolServer()
    const { store, app } = await page(server, uniqueDbName())
    await store.startPatrol()
    const clientId = store.patrol.row!.clientId
    geo.emit(LON, lat(0), store.patrol.row!.startedAt + 1000)
    await settle(store, 1)
    await app.logout()
    await eventually(() => expect(geo.watchers.size).toBe(0))
    expect(store.patrol.row).toBeNull()
    geo.emit(LON, lat(1), Date.now() + 2000) // nobody listens: nothing is recorded off duty
    await app.login('officer1', 'gridpatrol-demo')
    await eventually(() => expect(store.patrol.row?.clientId).toBe(clientId))
    expect(store.patrol.fixCount).toBe(1)
    await eventually(() => expect(geo.watchers.size).toBe(1))
  })

  it('says at once when location is denied', async () => {
    const server = new PatrolServer()
    const { store } = await page(server, uniqueDbName())
    await store.startPatrol()
    geo.fail(1)
    expect(store.patrol.gap?.reason).toBe('denied')
    await eventually(() => expect(server.patrols).toHaveLength(1)) // the upload started with the patrol is done
  })

  it('stops recording at the shift end and ends the patrol then, not later', async () => {
    const server = new PatrolServer()
    const { store } = await page(server, uniqueDbName())
    const shiftEndsAt = Date.now() + 10_000
    await store.startPatrol({ taskId: 7, gridIds: [101], shiftEndsAt })
    const t0 = store.patrol.row!.startedAt
    geo.emit(LON, lat(0), t0 + 1000)
    await settle(store, 1)
    geo.emit(LON, lat(1), shiftEndsAt + 1000)
    await eventually(() => expect(store.patrol.row?.endedAt).toBe(shiftEndsAt))
    expect(store.patrol.row?.endReason).toBe('shift_end')
    expect(store.patrol.fixCount).toBe(1)
    expect(geo.watchers.size).toBe(0)
    await eventually(() => expect(server.patrols[0]?.ended_at).toBe(new Date(shiftEndsAt).toISOString()))
    expect(server.calls.find((c) => c.path === '/api/v1/patrols')?.body).toMatchObject({ task_id: 7 })
  })

  it('keeps the screen on while patrolling, asks again when visible, and says when it cannot', async () => {
    const released: (() => void)[] = []
    const request = vi.fn(async () => {
      const target = new EventTarget() as EventTarget & { released: boolean; release(): Promise<void> }
      target.released = false
      target.release = async () => {
        target.released = true
        target.dispatchEvent(new Event('release'))
      }
      released.push(() => void target.release())
      return target
    })
    Object.defineProperty(navigator, 'wakeLock', { value: { request }, configurable: true })
    const { store } = await page(new PatrolServer(), uniqueDbName())
    await store.startPatrol()
    await eventually(() => expect(store.patrol.wakeLock).toBe('active'))
    released[0]() // the system releases it when the page is hidden
    expect(store.patrol.wakeLock).toBe('released')
    document.dispatchEvent(new Event('visibilitychange'))
    await eventually(() => expect(store.patrol.wakeLock).toBe('active'))
    expect(request).toHaveBeenCalledTimes(2)
    await store.stopPatrol()
    expect(store.patrol.wakeLock).toBe('off')

    Object.defineProperty(navigator, 'wakeLock', { value: undefined, configurable: true })
    await store.startPatrol()
    expect(store.patrol.wakeLock).toBe('unsupported')
  })
})
