// Patrols on this device: start, every fix as it arrives, batches cut for upload, end. Each step is one
// IndexedDB transaction that also writes its outbox item, so a crash never leaves a fix without its upload.
import { attempt, db, type PatrolEndReason, type PatrolFixRow, type PatrolRow, type Result } from './db'
import { enqueueInTransaction, newClientId, outboxTables } from './outbox'
import type { ApiFix, Patrol, PatrolStartBody, PointsBatchBody } from '@/api/types'

export const KIND_START = 'patrol.start'
export const KIND_POINTS = 'patrol.points'
export const KIND_END = 'patrol.end'
export const PATROL_KINDS = [KIND_START, KIND_POINTS, KIND_END]

/** POST /patrols takes at most this many grid ids; with more, the patrol starts without a grid list. */
export const MAX_START_GRIDS = 500

/** A batch never holds more than this (the server takes up to 5,000): long offline stretches go in several. */
export const MAX_BATCH_FIXES = 500

export interface PatrolPayload<B = unknown> {
  patrolClientId: string
  body: B
}

export type NewFix = Omit<PatrolFixRow, 'patrolClientId' | 'seq' | 'batchId' | 'uploaded'>

/** A patrol's items form one ordering group: its batches after its start, its end after its batches. */
export const patrolGroup = (patrolClientId: string) => `patrol:${patrolClientId}`

export const newId = newClientId

export function isoOf(ms: number): string {
  return new Date(ms).toISOString()
}

export interface StartOptions {
  userId: number
  taskId?: number | null
  gridIds?: number[]
  shiftEndsAt?: number | null
  now?: number
  clientId?: string
}

const tables = () => [db.patrols, db.patrolFixes, ...outboxTables()]

/** Create the patrol here first and queue POST /patrols; works with no network at all. */
export function createPatrol(opts: StartOptions): Promise<Result<PatrolRow>> {
  return attempt(async () => {
    const now = opts.now ?? Date.now()
    const patrol: PatrolRow = {
      clientId: opts.clientId ?? newId(),
      userId: opts.userId,
      serverId: null,
      taskId: opts.taskId ?? null,
      gridIds: [...(opts.gridIds ?? [])],
      startedAt: now,
      endedAt: null,
      shiftEndsAt: opts.shiftEndsAt ?? null,
      endReason: null,
      serverCoverage: null,
      resumedAt: null,
      conflict: null,
    }
    const body: PatrolStartBody = { client_id: patrol.clientId, started_at: isoOf(now) }
    // With a task the server takes the task's grids (the ids sent are the same, and serve if the task is refused);
    // without, the grids this officer was shown.
    if (patrol.taskId !== null) body.task_id = patrol.taskId
    if (patrol.gridIds.length && patrol.gridIds.length <= MAX_START_GRIDS) body.grid_ids = patrol.gridIds
    await db.transaction('rw', tables(), async () => {
      await db.patrols.add(patrol)
      await enqueueInTransaction({
        userId: patrol.userId, kind: KIND_START, clientId: patrol.clientId, group: patrolGroup(patrol.clientId),
        payload: { patrolClientId: patrol.clientId, body } satisfies PatrolPayload<PatrolStartBody>, now,
      })
    })
    return patrol
  })
}

function rowFromServer(userId: number, p: Patrol, now: number): PatrolRow {
  return {
    clientId: p.client_id,
    userId,
    serverId: p.id,
    taskId: p.task_id ?? null,
    gridIds: [...(p.grid_ids ?? [])],
    startedAt: Date.parse(p.started_at),
    endedAt: null,
    shiftEndsAt: p.shift_ends_at ? Date.parse(p.shift_ends_at) : null,
    endReason: null,
    serverCoverage: null,
    resumedAt: now,
    conflict: null,
  }
}

/**
 * Continue here a patrol the server has running (started on another phone, or before storage was lost): it gets a
 * local row under its own client id and server id, so this phone's fixes go into it. Nothing is queued to start it.
 * A patrol this phone already knows is returned as it is.
 */
export function adoptServerPatrol(userId: number, p: Patrol, now = Date.now()): Promise<Result<PatrolRow>> {
  return attempt(() =>
    db.transaction('rw', db.patrols, async () => {
      const known = await db.patrols.get(p.client_id)
      if (known) return known
      const row = rowFromServer(userId, p, now)
      await db.patrols.add(row)
      return row
    }),
  )
}

/**
 * The start of `patrolClientId` was refused because the officer already had `server` running: record this
 * phone's track into that one instead. The start item goes; the batches and the end then go to `server`.
 */
export function mergeIntoServerPatrol(patrolClientId: string, server: Patrol): Promise<Result<PatrolRow | undefined>> {
  return attempt(() =>
    db.transaction('rw', tables(), async () => {
      const row = await db.patrols.get(patrolClientId)
      if (!row || row.serverId !== null) return row
      row.serverId = server.id
      row.shiftEndsAt = server.shift_ends_at ? Date.parse(server.shift_ends_at) : row.shiftEndsAt
      row.taskId = server.task_id ?? null
      row.conflict = null
      await db.patrols.put(row)
      await db.outbox.where('clientId').equals(patrolClientId).and((r) => r.kind === KIND_START).delete()
      return row
    }),
  )
}

export function clearConflict(patrolClientId: string) {
  return attempt(() => db.patrols.update(patrolClientId, { conflict: null }))
}

export function setConflict(patrolClientId: string, conflict: Patrol) {
  return attempt(() => db.patrols.update(patrolClientId, { conflict }))
}

export function getPatrol(clientId: string): Promise<Result<PatrolRow | undefined>> {
  return attempt(() => db.patrols.get(clientId))
}

/** The user's patrol that has not ended (at most one), else undefined. */
export function runningPatrol(userId: number): Promise<Result<PatrolRow | undefined>> {
  return attempt(async () => {
    const rows = await db.patrols.where('userId').equals(userId).toArray()
    return rows.filter((p) => p.endedAt === null).sort((a, b) => b.startedAt - a.startedAt)[0]
  })
}

/** The user's most recent patrol, running or ended. */
export function latestPatrol(userId: number): Promise<Result<PatrolRow | undefined>> {
  return attempt(() =>
    db.patrols
      .where('[userId+startedAt]')
      .between([userId, -Infinity], [userId, Infinity])
      .last(),
  )
}

export function loadFixes(patrolClientId: string): Promise<Result<PatrolFixRow[]>> {
  return attempt(() =>
    db.patrolFixes.where('[patrolClientId+seq]').between([patrolClientId, -Infinity], [patrolClientId, Infinity]).toArray(),
  )
}

/**
 * Store one fix at once; seq is the next number of this patrol. A fix not later than the last one stored
 * (the same position delivered twice, or to a second tab) is not stored: the answer is null.
 */
export function appendFix(patrolClientId: string, fix: NewFix): Promise<Result<PatrolFixRow | null>> {
  return attempt(() =>
    db.transaction('rw', db.patrolFixes, async () => {
      const last = await db.patrolFixes
        .where('[patrolClientId+seq]')
        .between([patrolClientId, -Infinity], [patrolClientId, Infinity])
        .last()
      if (last && fix.t <= last.t) return null
      const row: PatrolFixRow = { ...fix, patrolClientId, seq: last ? last.seq + 1 : 0, batchId: '', uploaded: 0 }
      await db.patrolFixes.add(row)
      return row
    }),
  )
}

export function toApiFix(f: PatrolFixRow): ApiFix {
  const fix: ApiFix = { t: isoOf(f.t), lon: f.lon, lat: f.lat, accuracy_m: f.accuracyM }
  if (f.speedMps !== null) fix.speed_mps = f.speedMps
  if (f.headingDeg !== null) fix.heading_deg = f.headingDeg
  if (f.altitudeM !== null) fix.altitude_m = f.altitudeM
  return fix
}

async function cutInTransaction(patrol: PatrolRow, now: number): Promise<string[]> {
  const uncut = await db.patrolFixes.where('[patrolClientId+batchId]').equals([patrol.clientId, '']).sortBy('seq')
  const ids: string[] = []
  for (let i = 0; i < uncut.length; i += MAX_BATCH_FIXES) {
    const fixes = uncut.slice(i, i + MAX_BATCH_FIXES)
    const batchId = newId()
    const body: PointsBatchBody = { batch_id: batchId, points: fixes.map(toApiFix) }
    await db.patrolFixes.bulkPut(fixes.map((f) => ({ ...f, batchId })))
    await enqueueInTransaction({
      userId: patrol.userId, kind: KIND_POINTS, clientId: batchId, group: patrolGroup(patrol.clientId),
      payload: { patrolClientId: patrol.clientId, body } satisfies PatrolPayload<PointsBatchBody>, now,
    })
    ids.push(batchId)
  }
  return ids
}

/**
 * Cut every fix not yet in a batch into batches (one outbox item each). The body is stored with the item,
 * so it never changes after this: a retry sends the identical request. Returns the new batch ids.
 */
export function cutBatch(patrolClientId: string, now = Date.now()): Promise<Result<string[]>> {
  return attempt(() =>
    db.transaction('rw', tables(), async () => {
      const patrol = await db.patrols.get(patrolClientId)
      if (!patrol) return []
      return cutInTransaction(patrol, now)
    }),
  )
}

/** End here: cut the last fixes, set the end and queue POST /patrols/{id}/end. Ending twice keeps the first. */
export function finishPatrol(
  patrolClientId: string,
  endedAt: number,
  reason: PatrolEndReason | null,
  now = Date.now(),
): Promise<Result<PatrolRow | undefined>> {
  return attempt(() =>
    db.transaction('rw', tables(), async () => {
      const patrol = await db.patrols.get(patrolClientId)
      if (!patrol || patrol.endedAt !== null) return patrol
      await cutInTransaction(patrol, now)
      patrol.endedAt = Math.max(endedAt, patrol.startedAt)
      patrol.endReason = reason
      await db.patrols.put(patrol)
      await enqueueInTransaction({
        userId: patrol.userId, kind: KIND_END, clientId: `end-${patrol.clientId}`, group: patrolGroup(patrol.clientId),
        payload: { patrolClientId: patrol.clientId, body: { ended_at: isoOf(patrol.endedAt) } }, now,
      })
      return patrol
    }),
  )
}

/**
 * The server ended this patrol by itself (idle, shift end, ...): take its end and reason; the fixes still here
 * are cut and sent all the same (what the phone recorded is kept; the server drops what is off duty).
 * Runs inside a transaction over the patrol tables and the outbox (a sender's commit), or on its own.
 */
export async function endedByServerInTransaction(patrolClientId: string, endedAt: number, reason: PatrolEndReason | null) {
  const patrol = await db.patrols.get(patrolClientId)
  if (!patrol || patrol.endedAt !== null) return
  await cutInTransaction(patrol, Date.now())
  patrol.endedAt = endedAt
  patrol.endReason = reason
  patrol.endedByServer = true
  await db.patrols.put(patrol)
}

export function endedByServer(patrolClientId: string, endedAt: number, reason: PatrolEndReason | null) {
  return attempt(() => db.transaction('rw', tables(), () => endedByServerInTransaction(patrolClientId, endedAt, reason)))
}

export interface PatrolPending {
  /** fixes recorded here that the server has not confirmed */
  fixes: number
  /** of those, fixes not yet cut into a batch, and the time of the oldest */
  uncut: number
  oldestUncutT: number | null
  /** outbox items of this patrol (start, batches, end) */
  items: number
  batches: number
  /** its start and end are still to be sent */
  start: boolean
  end: boolean
  /** batches ever cut for this patrol (the first goes within seconds, the next at a steady pace) */
  everCut: boolean
  /** last upload error of this patrol's items, if any, its code, whether refused or to retry, and when */
  lastError: string | null
  lastErrorCode: string | null
  lastErrorState: 'refused' | 'retry' | null
  retryAt: number | null
}

export function patrolPending(patrolClientId: string): Promise<Result<PatrolPending>> {
  return attempt(async () => {
    const fixes = await db.patrolFixes.where('[patrolClientId+uploaded]').equals([patrolClientId, 0]).count()
    const uncutRows = db.patrolFixes.where('[patrolClientId+batchId]').equals([patrolClientId, ''])
    const uncut = await uncutRows.count()
    const oldest = uncut ? await uncutRows.first() : undefined
    const total = await db.patrolFixes.where('[patrolClientId+seq]').between([patrolClientId, -Infinity], [patrolClientId, Infinity]).count()
    const items = await db.outbox.where('group').equals(patrolGroup(patrolClientId)).sortBy('seq')
    const failed = items.find((r) => r.state !== 'pending')
    return {
      fixes,
      uncut,
      oldestUncutT: oldest?.t ?? null,
      items: items.length,
      batches: items.filter((r) => r.kind === KIND_POINTS).length,
      start: items.some((r) => r.kind === KIND_START),
      end: items.some((r) => r.kind === KIND_END),
      everCut: total > uncut,
      lastError: failed?.lastError ?? null,
      lastErrorCode: failed?.lastErrorCode ?? null,
      lastErrorState: failed ? (failed.state as 'refused' | 'retry') : null,
      retryAt: failed?.nextAttemptAt ?? null,
    }
  })
}

/** Fixes of the user's running patrols not yet cut into a batch (they are unsent too). */
export async function uncutFixes(userId: number): Promise<number> {
  const running = (await db.patrols.where('userId').equals(userId).toArray()).filter((p) => p.endedAt === null)
  let n = 0
  for (const p of running) n += await db.patrolFixes.where('[patrolClientId+batchId]').equals([p.clientId, '']).count()
  return n
}

/** The server stored this patrol: remember its id (client id -> server id). In the sender's commit. */
export async function recordStarted(patrolClientId: string, serverId: number, shiftEndsAt: number | null) {
  const patrol = await db.patrols.get(patrolClientId)
  if (!patrol) return
  patrol.serverId = serverId
  patrol.conflict = null
  if (shiftEndsAt !== null) patrol.shiftEndsAt = shiftEndsAt
  await db.patrols.put(patrol)
}

/** The server confirmed a batch: its fixes are uploaded (in the sender's commit, with the item's removal). */
export async function recordBatchUploaded(patrolClientId: string, batchId: string) {
  await db.patrolFixes.where('[patrolClientId+batchId]').equals([patrolClientId, batchId]).modify({ uploaded: 1 })
}

export function saveServerCoverage(patrolClientId: string, coverage: PatrolRow['serverCoverage']) {
  return attempt(() => db.patrols.update(patrolClientId, { serverCoverage: coverage }))
}

/** After the end was sent: the server's own end, when it had ended the patrol before (idle, shift end). */
export async function recordServerEnd(patrolClientId: string, endedAt: number, reason: PatrolEndReason) {
  const patrol = await db.patrols.get(patrolClientId)
  if (!patrol || reason === 'user') return
  patrol.endedAt = endedAt
  patrol.endReason = reason
  patrol.endedByServer = true
  await db.patrols.put(patrol)
}

export function patrolTables() {
  return [db.patrols, db.patrolFixes]
}
