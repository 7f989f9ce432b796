// The running patrol as the app sees it (one store for the whole app): start/stop, geolocation only while a
// patrol runs, every fix to IndexedDB at once, batches to the outbox, gaps, wake lock, live distance and coverage,
// the restore after a reload, and a patrol the server has running that this phone is not recording.
// The rules live in recorder.ts, storage in data/patrols.ts, the uploads in the outbox.
import { reactive, shallowRef, watch } from 'vue'
import type { AreaFeature, GridCoverageItem, Patrol } from '@/api/types'
import { OfflineError } from '@/api/http'
import { endPatrol as endPatrolOnServer, getPatrol as getServerPatrol, getPatrolCoverage, listRunningPatrols } from '@/api/patrols'
import type { PatrolEndReason, PatrolFixRow, PatrolRow, StorageError } from '@/data/db'
import {
  adoptServerPatrol, appendFix, clearConflict, createPatrol, cutBatch, endedByServer, finishPatrol, getPatrol,
  isoOf, latestPatrol, loadFixes, mergeIntoServerPatrol, patrolGroup, patrolPending, runningPatrol,
  saveServerCoverage, setConflict, type PatrolPending,
} from '@/data/patrols'
import { groupItems } from '@/data/outbox'
import { onDrained, requestDrain, retryNow, type DrainReport } from '@/data/outboxDrain'
import { installOutbox, resetOutbox, uploadNow } from '@/composables/useOutbox'
import { online } from '@/composables/useConnectivity'
import { afterPaint } from '@/lib/afterPaint'
import { areas, refreshPending, session } from '@/composables/useSession'
import { GridCoverage, boundsOf, pointInGeometry, type LonLat, type PolygonalGeometry } from '@/lib/coverage'
import {
  TrackBuilder, currentGap, partFor, shouldCut, type GapInfo,
} from './recorder'

export type WakeLockState = 'off' | 'active' | 'unsupported' | 'failed' | 'released'

export const patrol = reactive({
  /** the restore from IndexedDB has run for the current user */
  ready: false,
  /** the running patrol, or the last one after it ended (for its summary); null: none yet */
  row: null as PatrolRow | null,
  recording: false,
  fixCount: 0,
  /** positions the browser delivered to this page while recording, stored or not (a repeat is not a fix) */
  positionsSeen: 0,
  lastFix: null as PatrolFixRow | null,
  distanceM: 0,
  /** number of breaks in the drawn line (parts - 1) */
  breaks: 0,
  now: Date.now(),
  gap: null as GapInfo | null,
  wakeLock: 'off' as WakeLockState,
  pending: {
    fixes: 0, uncut: 0, oldestUncutT: null, items: 0, batches: 0, start: false, end: false, everCut: false,
    lastError: null, lastErrorCode: null, lastErrorState: null, retryAt: null,
  } as PatrolPending,
  syncing: false,
  lastDrain: null as DrainReport | null,
  /** the grid holding the last kept fix */
  currentGridId: null as number | null,
  /** local estimate per grid the track came near */
  estimate: {} as Record<number, number>,
  /** the server's coverage could not be fetched (shown in words; the details are in the console) */
  serverCoverageFailed: false,
  storageError: null as StorageError | null,
})

/** A patrol of this officer the server has running that this phone is not recording (another phone, a crash). */
export const serverPatrol = reactive({
  running: null as Patrol | null,
  checkFailed: false,
  busy: false,
})

/** The kept track: one lon/lat array per unbroken part (append-only; `trackEpoch` changes when rebuilt). */
export const trackParts = shallowRef<LonLat[][]>([])
export const trackVersion = shallowRef(0)
export const trackEpoch = shallowRef(0)

type Sink = (err: unknown) => void
let reportError: Sink = (err) => console.error(err)
export function setPatrolErrorSink(sink: Sink): void {
  reportError = sink
}

function storageFailed(error: StorageError) {
  patrol.storageError = error
  reportError(error)
}

// ---- grids and the local coverage estimate ----

interface GridRaster {
  feature: AreaFeature
  bounds: [number, number, number, number]
  raster: GridCoverage | null
}
let grids: GridRaster[] = []
let builder = new TrackBuilder()

/** The patrol's grids: the task's (or the ids sent at start) among the areas this user has, else all their grids. */
export function patrolGrids(row: PatrolRow | null = patrol.row): AreaFeature[] {
  const all = areas.value.filter((f) => f.properties.kind === 'grid' && f.geometry)
  if (!row?.gridIds.length) return all
  const wanted = new Set(row.gridIds)
  return all.filter((f) => wanted.has(Number(f.id)))
}

const PAD_DEG = 0.0005 // ~50 m: a fix just outside a grid still covers its edge (R = 30 m)

function near(b: [number, number, number, number], p: LonLat, q: LonLat): boolean {
  return (
    Math.max(p[0], q[0]) >= b[0] - PAD_DEG && Math.min(p[0], q[0]) <= b[2] + PAD_DEG &&
    Math.max(p[1], q[1]) >= b[1] - PAD_DEG && Math.min(p[1], q[1]) <= b[3] + PAD_DEG
  )
}

function coverStep(a: LonLat, b: LonLat) {
  for (const g of grids) {
    if (!near(g.bounds, a, b)) continue
    g.raster ??= new GridCoverage(g.feature.geometry as PolygonalGeometry)
    g.raster.addSegment(a, b)
    patrol.estimate[Number(g.feature.id)] = g.raster.ratio
  }
}

function locateGrid(p: LonLat): number | null {
  for (const g of grids) {
    if (p[0] < g.bounds[0] || p[0] > g.bounds[2] || p[1] < g.bounds[1] || p[1] > g.bounds[3]) continue
    if (pointInGeometry(p, g.feature.geometry as PolygonalGeometry)) return Number(g.feature.id)
  }
  return null
}

function takeFix(fix: PatrolFixRow) {
  const step = builder.add(fix)
  if (!step.kept) return
  coverStep(step.segment ? step.segment[0] : step.point, step.point)
  patrol.currentGridId = locateGrid(step.point)
  patrol.distanceM = builder.distanceM
  patrol.breaks = Math.max(0, builder.parts.length - 1)
}

/** Build track, distance and coverage again from every stored fix (restore, or the grids changed). */
function rebuild(fixes: PatrolFixRow[]) {
  builder = new TrackBuilder()
  grids = patrolGrids().map((feature) => ({
    feature,
    bounds: boundsOf(feature.geometry as PolygonalGeometry),
    raster: null,
  }))
  patrol.estimate = {}
  patrol.currentGridId = null
  patrol.distanceM = 0
  patrol.breaks = 0
  for (const f of fixes) takeFix(f)
  trackParts.value = builder.parts
  trackEpoch.value++
  trackVersion.value++
}

// ---- displayed coverage: the server's figure once everything is uploaded, else the estimate ----

export interface ShownCoverage {
  gridId: number
  ratio: number
  source: 'server' | 'estimate'
}

export function shownCoverage(gridId: number | null): ShownCoverage | null {
  if (gridId === null) return null
  const sc = patrol.row?.serverCoverage
  if (sc && patrol.pending.items === 0 && patrol.pending.fixes === 0 && sc.fixCount === patrol.fixCount) {
    const item = sc.items.find((i) => i.grid_id === gridId)
    // The server lists the grids its raster found the track in; a grid it does not list has none covered.
    return { gridId, ratio: item?.covered_ratio ?? 0, source: 'server' }
  }
  return { gridId, ratio: patrol.estimate[gridId] ?? 0, source: 'estimate' }
}

/** Grids the track came near, best covered first, with what to show for each. */
export function touchedGrids(): { feature: AreaFeature; coverage: ShownCoverage }[] {
  return grids
    .filter((g) => g.raster && g.raster.coveredCount > 0)
    .map((g) => ({ feature: g.feature, coverage: shownCoverage(Number(g.feature.id))! }))
    .sort((a, b) => b.coverage.ratio - a.coverage.ratio)
}

// ---- restore ----

let restoredFor: number | null = null
let restoring: Promise<void> | null = null

/** Load this user's running (or last) patrol with its fixes; resume recording if it still runs. Idempotent. */
export function ensurePatrolRestored(): Promise<void> {
  const userId = session.userId
  if (userId === restoredFor && patrol.ready) return Promise.resolve()
  if (!restoring) restoring = doRestore(userId).finally(() => (restoring = null))
  return restoring
}

async function doRestore(userId: number | null) {
  installSync()
  serverPatrol.running = null
  stopRecording()
  patrol.ready = false
  patrol.row = null
  patrol.fixCount = 0
  patrol.lastFix = null
  rebuild([])
  restoredFor = userId
  if (userId === null) {
    patrol.ready = true
    return
  }
  const running = await runningPatrol(userId)
  if (!running.ok) return storageFailed(running.error)
  const row = running.value ?? (await latestPatrol(userId).then((r) => (r.ok ? r.value : undefined)))
  if (row) await loadPatrol(row)
  patrol.ready = true
  if (row && row.endedAt === null) {
    if (row.shiftEndsAt !== null && Date.now() >= row.shiftEndsAt) await stopPatrol('shift_end')
    else startRecording()
  }
  void requestDrain()
  // the network after the first paint: a request started before it is part of that paint's critical path
  void afterPaint().then(checkServerPatrol)
}

async function loadPatrol(row: PatrolRow) {
  patrol.row = row
  const fixes = await loadFixes(row.clientId)
  if (!fixes.ok) return storageFailed(fixes.error)
  patrol.fixCount = fixes.value.length
  patrol.lastFix = fixes.value[fixes.value.length - 1] ?? null
  rebuild(fixes.value)
  await refreshPatrolPending()
}

// Logged out, or someone else logged in: this device stops recording the patrol at once (it is not ended; its
// officer resumes it after logging in again, with an honest gap).
watch(
  () => session.userId,
  (id) => {
    if (id === restoredFor) return
    if (restoredFor !== null) {
      stopRecording()
      restoredFor = null
      patrol.ready = false
      patrol.row = null
      patrol.fixCount = 0
      patrol.lastFix = null
      patrol.gap = null
      serverPatrol.running = null
      rebuild([])
    }
    if (id !== null) void ensurePatrolRestored()
  },
)

// The grids arrive (or change) with a sync after the patrol was restored: recount the estimate on them.
watch(areas, async () => {
  if (!patrol.row) return
  const fixes = await loadFixes(patrol.row.clientId)
  if (fixes.ok) rebuild(fixes.value)
})

// ---- start / stop ----

export interface StartRequest {
  taskId?: number | null
  gridIds?: number[]
  shiftEndsAt?: number | null
}

/** Start a patrol here and now (no network needed); false when one already runs or storage failed. */
export async function startPatrol(req: StartRequest = {}): Promise<boolean> {
  await ensurePatrolRestored()
  const userId = session.userId
  if (userId === null || patrol.recording || (patrol.row && patrol.row.endedAt === null)) return false
  // The server has one running: the officer continues or ends it first (a second one would be refused).
  if (serverPatrol.running) return false
  const gridIds = req.gridIds ?? patrolGrids(null).map((f) => Number(f.id))
  const created = await createPatrol({ userId, taskId: req.taskId ?? null, gridIds, shiftEndsAt: req.shiftEndsAt ?? null })
  if (!created.ok) {
    storageFailed(created.error)
    return false
  }
  patrol.row = created.value
  patrol.fixCount = 0
  patrol.lastFix = null
  patrol.gap = null
  patrol.serverCoverageFailed = false
  rebuild([])
  startRecording()
  await refreshPatrolPending()
  return true // the enqueue itself starts the upload
}

/** End the patrol: stop recording, cut the last fixes, queue the end, upload. */
let stopping = false
export async function stopPatrol(reason: 'user' | 'shift_end' = 'user'): Promise<void> {
  const row = patrol.row
  if (!row || row.endedAt !== null || stopping) return
  stopping = true
  try {
    await endPatrolNow(row, reason)
  } finally {
    stopping = false
  }
}

async function endPatrolNow(row: PatrolRow, reason: 'user' | 'shift_end') {
  stopRecording()
  // The fixes already received are stored first. (Never awaited from inside the queue: see onPosition.)
  await fixQueue
  const endedAt = reason === 'shift_end' && row.shiftEndsAt !== null ? row.shiftEndsAt : Date.now()
  const done = await finishPatrol(row.clientId, endedAt, reason)
  if (!done.ok) return storageFailed(done.error)
  if (done.value) patrol.row = done.value
  patrol.gap = null
  await refreshPatrolPending()
}

// ---- recording: geolocation, wake lock, ticker ----

let watchId: number | null = null
let ticker: ReturnType<typeof setInterval> | null = null
let wakeSentinel: WakeLockSentinel | null = null
let recordingSince = 0
let hiddenAt: number | null = null
let lastGeoError: { code: number; at: number } | null = null
let fixQueue: Promise<void> = Promise.resolve()

function geolocationSupported(): boolean {
  return typeof navigator !== 'undefined' && 'geolocation' in navigator && !!navigator.geolocation
}

function startRecording() {
  if (patrol.recording || !patrol.row || patrol.row.endedAt !== null) return
  patrol.recording = true
  recordingSince = Date.now()
  hiddenAt = null
  lastGeoError = null
  if (geolocationSupported()) {
    watchId = navigator.geolocation.watchPosition(
      (pos) => {
        fixQueue = fixQueue.then(() => onPosition(pos)).catch(reportError)
      },
      (err) => {
        lastGeoError = { code: err.code, at: Date.now() }
        tick()
      },
      { enableHighAccuracy: true, maximumAge: 0, timeout: 30_000 },
    )
  }
  document.addEventListener('visibilitychange', onVisibility)
  void acquireWakeLock()
  ticker = setInterval(tick, 1000)
  tick()
}

function stopRecording() {
  if (watchId !== null && geolocationSupported()) navigator.geolocation.clearWatch(watchId)
  watchId = null
  if (ticker) clearInterval(ticker)
  ticker = null
  if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility)
  void wakeSentinel?.release().catch(() => undefined)
  wakeSentinel = null
  patrol.wakeLock = 'off'
  patrol.recording = false
}

async function onPosition(pos: GeolocationPosition) {
  const row = patrol.row
  if (!patrol.recording || !row || row.endedAt !== null) return
  const t = pos.timestamp
  if (row.shiftEndsAt !== null && t > row.shiftEndsAt) {
    void stopPatrol('shift_end') // the shift is over: this fix is off duty and is not kept (not awaited: it waits for this queue)
    return
  }
  patrol.positionsSeen++
  if (t < row.startedAt) return // a position from before the start (a browser cache): not this patrol's
  const c = pos.coords
  const stored = await appendFix(row.clientId, {
    t,
    lon: c.longitude,
    lat: c.latitude,
    accuracyM: c.accuracy,
    speedMps: c.speed ?? null,
    headingDeg: c.heading === null || c.heading === undefined || Number.isNaN(c.heading) ? null : c.heading,
    altitudeM: c.altitude ?? null,
    part: partFor(patrol.lastFix, t),
  })
  if (!stored.ok) return storageFailed(stored.error)
  if (!stored.value) return // the same fix again
  patrol.fixCount++
  patrol.lastFix = stored.value
  takeFix(stored.value)
  trackVersion.value++
  patrol.gap = null
  await maybeCut(false)
}

/** Cut the fixes not yet in a batch when the rules say so (or now, when forced), then upload. */
async function maybeCut(force: boolean) {
  const row = patrol.row
  if (!row) return
  await refreshPatrolPending()
  if (!(force ? patrol.pending.uncut > 0 : shouldCut(cutInputs()))) return
  const cut = await cutBatch(row.clientId)
  if (!cut.ok) return storageFailed(cut.error)
  await refreshPatrolPending() // the enqueue starts the upload
}

function cutInputs() {
  const p = patrol.pending
  return { uncut: p.uncut, oldestUncutT: p.oldestUncutT, now: Date.now(), online: online.value, everCut: p.everCut }
}

function tick() {
  patrol.now = Date.now()
  const row = patrol.row
  if (!row || !patrol.recording) return
  if (row.shiftEndsAt !== null && patrol.now >= row.shiftEndsAt) {
    void stopPatrol('shift_end')
    return
  }
  patrol.gap = currentGap({
    now: patrol.now,
    lastFixAt: patrol.lastFix?.t ?? null,
    startedAt: row.startedAt,
    recordingSince,
    geolocationSupported: geolocationSupported(),
    lastError: lastGeoError,
    hiddenAt,
  })
  if (shouldCut(cutInputs())) void maybeCut(false)
}

function onVisibility() {
  if (document.visibilityState === 'visible') {
    void acquireWakeLock()
    tick()
  } else {
    hiddenAt = Date.now()
    // Geolocation stops while hidden: send what we have, the page may not come back.
    void maybeCut(true)
  }
}

async function acquireWakeLock() {
  if (!patrol.recording) return
  if (typeof navigator === 'undefined' || !('wakeLock' in navigator) || !navigator.wakeLock) {
    patrol.wakeLock = 'unsupported'
    return
  }
  if (document.visibilityState !== 'visible' || (wakeSentinel && !wakeSentinel.released)) return
  try {
    const sentinel = await navigator.wakeLock.request('screen')
    if (!patrol.recording) {
      void sentinel.release()
      return
    }
    wakeSentinel = sentinel
    patrol.wakeLock = 'active'
    sentinel.addEventListener('release', () => {
      if (wakeSentinel === sentinel && patrol.recording) patrol.wakeLock = 'released'
    })
  } catch (err) {
    // The browser's reason is English ("Wake Lock permission request denied"): the console keeps it, the
    // officer reads what it means and what to do (GapBanner).
    console.warn('wake lock refused', err)
    patrol.wakeLock = 'failed'
  }
}

// ---- upload and the server's coverage ----

export async function refreshPatrolPending(): Promise<void> {
  const row = patrol.row
  if (!row) return
  const p = await patrolPending(row.clientId)
  if (!p.ok) return storageFailed(p.error)
  patrol.pending = p.value
}

/** The upload button: cut what waits, upload everything now (whatever the backoff), then fetch the coverage. */
export async function syncNow(): Promise<DrainReport | null> {
  if (patrol.row && patrol.row.endedAt === null) await maybeCut(true)
  patrol.syncing = true
  try {
    return await uploadNow()
  } finally {
    patrol.syncing = false
  }
}

async function afterDrain(report: DrainReport) {
  patrol.lastDrain = report
  if (report.error) storageFailed(report.error)
  await reloadRow()
  await refreshPatrolPending()
  await refreshPending()
  await fetchServerCoverage()
}

/** Take the server id, shift end, conflict, coverage and an end made by the server from storage. */
async function reloadRow() {
  const row = patrol.row
  if (!row) return
  const fresh = await getPatrol(row.clientId)
  if (!fresh.ok || !fresh.value || patrol.row?.clientId !== row.clientId) return
  patrol.row = fresh.value
  // The server ended it by itself (no fixes for a while, the shift is over): this phone stops recording too.
  if (fresh.value.endedAt !== null && patrol.recording) {
    stopRecording()
    patrol.gap = null
  }
}

/** Once every item of the patrol is uploaded, ask the server for its coverage (if not already for these fixes). */
async function fetchServerCoverage() {
  const row = patrol.row
  if (!row || row.serverId === null || patrol.pending.items > 0 || patrol.pending.fixes > 0) return
  if (row.serverCoverage && row.serverCoverage.fixCount === patrol.fixCount) return
  const fixCount = patrol.fixCount
  let items: GridCoverageItem[]
  try {
    items = await getPatrolCoverage(row.serverId)
  } catch (err) {
    if (err instanceof OfflineError) return
    console.warn('patrol coverage', err)
    patrol.serverCoverageFailed = true
    return
  }
  const coverage = { fetchedAt: Date.now(), fixCount, items }
  const saved = await saveServerCoverage(row.clientId, coverage)
  if (!saved.ok) storageFailed(saved.error)
  if (patrol.row?.clientId === row.clientId) patrol.row = { ...patrol.row, serverCoverage: coverage }
  patrol.serverCoverageFailed = false
}

// ---- a patrol the server has running that this phone is not recording ----

/**
 * Ask the server which patrol of this officer runs. One this phone does not record is shown (continue it here,
 * or end it); the phone's own running patrol that the server ended meanwhile stops here too, with the reason.
 */
let checking: { key: string; done: Promise<void> } | null = null

/** Ask the server whether this officer has a patrol running elsewhere. Calls made while one is on its way share it,
 * if it was asked for the same user with the same connectivity (a call back online must not join one sent offline). */
export function checkServerPatrol(): Promise<void> {
  const key = `${session.userId}:${online.value}`
  if (checking?.key !== key) {
    const current: { key: string; done: Promise<void> } = {
      key,
      done: doCheckServerPatrol().finally(() => {
        if (checking === current) checking = null
      }),
    }
    checking = current
  }
  return checking.done
}

async function doCheckServerPatrol(): Promise<void> {
  const user = session.user
  if (!user || !user.roles.includes('officer') || session.needsPassword) return
  let running: Patrol[]
  try {
    running = await listRunningPatrols(user.id)
  } catch (err) {
    if (!(err instanceof OfflineError)) {
      console.warn('running patrols', err)
      serverPatrol.checkFailed = true
    }
    return
  }
  if (session.userId !== user.id) return
  serverPatrol.checkFailed = false
  const local = patrol.row
  let other: Patrol | null = null
  for (const p of running) {
    if (local && p.client_id === local.clientId) continue
    const known = await getPatrol(p.client_id)
    if (known.ok && known.value && known.value.endedAt !== null) continue // ended here; its end is on its way
    other = p
    break
  }
  serverPatrol.running = other
  if (local && local.endedAt === null) {
    // Not started on the server yet and another one runs there: the start will be refused; say so now.
    if (other && local.serverId === null && !local.conflict) {
      const w = await setConflict(local.clientId, other)
      if (!w.ok) return storageFailed(w.error)
      await reloadRow()
    }
    if (local.serverId !== null && !running.some((p) => p.id === local.serverId)) await learnServerEnd(local)
  }
}

async function learnServerEnd(local: PatrolRow) {
  let p: Patrol
  try {
    p = await getServerPatrol(local.serverId!)
  } catch (err) {
    if (!(err instanceof OfflineError)) console.warn('patrol state', err)
    return
  }
  if (!p.ended_at || patrol.row?.clientId !== local.clientId || patrol.row.endedAt !== null) return
  await fixQueue
  const w = await endedByServer(local.clientId, Date.parse(p.ended_at), (p.end_reason ?? 'user') as PatrolEndReason)
  if (!w.ok) return storageFailed(w.error)
  await reloadRow()
  await refreshPatrolPending()
}

/** Continue here the patrol the server has running: this phone's fixes go into it from now on. */
export async function resumeServerPatrol(): Promise<boolean> {
  const p = serverPatrol.running
  const userId = session.userId
  if (!p || userId === null || (patrol.row && patrol.row.endedAt === null)) return false
  const adopted = await adoptServerPatrol(userId, p)
  if (!adopted.ok) {
    storageFailed(adopted.error)
    return false
  }
  serverPatrol.running = null
  await loadPatrol(adopted.value)
  patrol.gap = null
  patrol.serverCoverageFailed = false
  startRecording()
  return true
}

/** End the patrol the server has running (queued: works offline too). It ends when it was last seen. */
export async function endServerPatrol(): Promise<boolean> {
  const p = serverPatrol.running
  const userId = session.userId
  if (!p || userId === null) return false
  serverPatrol.busy = true
  try {
    const adopted = await adoptServerPatrol(userId, p)
    const endedAt = p.last_seen_at ? Date.parse(p.last_seen_at) : Date.now()
    const done = adopted.ok ? await finishPatrol(adopted.value.clientId, endedAt, 'user') : adopted
    if (!done.ok) {
      storageFailed(done.error)
      return false
    }
    serverPatrol.running = null
    return true
  } finally {
    serverPatrol.busy = false
  }
}

/** The start was refused because another patrol runs: record this phone's track into that one. */
export async function mergeIntoConflict(): Promise<boolean> {
  const row = patrol.row
  if (!row?.conflict) return false
  const merged = await mergeIntoServerPatrol(row.clientId, row.conflict)
  if (!merged.ok) {
    storageFailed(merged.error)
    return false
  }
  if (merged.value) patrol.row = merged.value
  serverPatrol.running = null
  await refreshPatrolPending()
  void uploadNow()
  return true
}

/**
 * The start was refused because another patrol runs: end that one on the server now (needs the network), then
 * send this one's start again. Returns false offline (the officer is told to connect).
 */
export async function endConflictAndUpload(): Promise<boolean> {
  const row = patrol.row
  const other = row?.conflict
  if (!row || !other) return false
  serverPatrol.busy = true
  try {
    await endPatrolOnServer(other.id, other.last_seen_at ?? isoOf(Date.now()))
  } catch (err) {
    if (err instanceof OfflineError) return false
    throw err
  } finally {
    serverPatrol.busy = false
  }
  const cleared = await clearConflict(row.clientId)
  if (!cleared.ok) {
    storageFailed(cleared.error)
    return false
  }
  const items = await groupItems(patrolGroup(row.clientId))
  if (items.ok) for (const item of items.value) await retryNow(item.seq!)
  serverPatrol.running = null
  await reloadRow()
  void uploadNow()
  return true
}

let uninstallSync: (() => void) | null = null
function installSync() {
  if (uninstallSync || typeof window === 'undefined') return
  installOutbox()
  uninstallSync = onDrained((report, userId) => {
    if (userId === session.userId) void afterDrain(report)
  })
}

/** Tests: forget the module state as if the page were closed (recording stops, nothing is ended). */
export function resetPatrolStore(): void {
  stopRecording()
  uninstallSync?.()
  uninstallSync = null
  resetOutbox()
  restoredFor = null
  patrol.ready = false
  patrol.row = null
  serverPatrol.running = null
}
