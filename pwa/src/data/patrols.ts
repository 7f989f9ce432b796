// Patrols on this device: start, every fix as it arrives, batches cut for upload, end. Each step is one
// IndexedDB transaction that also writes the outbox item, so a crash never leaves a fix without its upload.
import { attempt, db, type OutboxRow, type PatrolFixRow, type PatrolRow, type Result } from './db'
import type { ApiFix, PatrolStartBody, PointsBatchBody } from '@/api/types'

export const KIND_START = 'patrol.start'
export const KIND_POINTS = 'patrol.points'
export const KIND_END = 'patrol.end'
export const PATROL_KINDS = [KIND_START, KIND_POINTS, KIND_END]

/** POST /patrols takes at most this many grid ids; with more, the patrol starts without a grid list. */
export const MAX_START_GRIDS = 500

/** A batch never holds more than this (the server takes up to 5,000). */
export const MAX_BATCH_FIXES = 500

export interface PatrolPayload<B = unknown> {
  patrolClientId: string
  body: B
}

export type NewFix = Omit<PatrolFixRow, 'patrolClientId' | 'seq' | 'batchId' | 'uploaded'>

export function newId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID()
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`
}

export function isoOf(ms: number): string {
  return new Date(ms).toISOString()
}

function outboxRow(userId: number, clientId: string, kind: string, payload: PatrolPayload, now: number): OutboxRow {
  return { userId, clientId, kind, payload, createdAt: now, attempts: 0, lastError: null }
}

export interface StartOptions {
  userId: number
  taskId?: number | null
  gridIds?: number[]
  shiftEndsAt?: number | null
  now?: number
  clientId?: string
}

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
    }
    const body: PatrolStartBody = { client_id: patrol.clientId, started_at: isoOf(now) }
    // With a task the server takes the task's grids (the ids sent are the same, and serve if the task is refused);
    // without, the grids this officer was shown.
    if (patrol.taskId !== null) body.task_id = patrol.taskId
    if (patrol.gridIds.length && patrol.gridIds.length <= MAX_START_GRIDS) body.grid_ids = patrol.gridIds
    await db.transaction('rw', db.patrols, db.outbox, async () => {
      await db.patrols.add(patrol)
      await db.outbox.add(outboxRow(patrol.userId, patrol.clientId, KIND_START, { patrolClientId: patrol.clientId, body }, now))
    })
    return patrol
  })
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
    await db.outbox.add(outboxRow(patrol.userId, batchId, KIND_POINTS, { patrolClientId: patrol.clientId, body }, now))
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
    db.transaction('rw', db.patrols, db.patrolFixes, db.outbox, async () => {
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
  reason: PatrolRow['endReason'],
  now = Date.now(),
): Promise<Result<PatrolRow | undefined>> {
  return attempt(() =>
    db.transaction('rw', db.patrols, db.patrolFixes, db.outbox, async () => {
      const patrol = await db.patrols.get(patrolClientId)
      if (!patrol || patrol.endedAt !== null) return patrol
      await cutInTransaction(patrol, now)
      patrol.endedAt = Math.max(endedAt, patrol.startedAt)
      patrol.endReason = reason
      await db.patrols.put(patrol)
      await db.outbox.add(
        outboxRow(patrol.userId, `end-${patrol.clientId}`, KIND_END, {
          patrolClientId: patrol.clientId,
          body: { ended_at: isoOf(patrol.endedAt) },
        }, now),
      )
      return patrol
    }),
  )
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
  /** last upload error of this patrol's items, if any */
  lastError: string | null
}

export function patrolPending(patrolClientId: string): Promise<Result<PatrolPending>> {
  return attempt(async () => {
    const fixes = await db.patrolFixes.where('[patrolClientId+uploaded]').equals([patrolClientId, 0]).count()
    const uncutRows = db.patrolFixes.where('[patrolClientId+batchId]').equals([patrolClientId, ''])
    const uncut = await uncutRows.count()
    const oldest = uncut ? await uncutRows.first() : undefined
    const items = (await db.outbox.toArray()).filter(
      (r) => PATROL_KINDS.includes(r.kind) && (r.payload as PatrolPayload).patrolClientId === patrolClientId,
    )
    return {
      fixes,
      uncut,
      oldestUncutT: oldest?.t ?? null,
      items: items.length,
      batches: items.filter((r) => r.kind === KIND_POINTS).length,
      lastError: items.find((r) => r.lastError)?.lastError ?? null,
    }
  })
}

/** The server stored this patrol: remember its id (client id -> server id) and remove the start item. */
export function markStarted(seq: number, patrolClientId: string, serverId: number, shiftEndsAt: number | null) {
  return attempt(() =>
    db.transaction('rw', db.patrols, db.outbox, async () => {
      const patrol = await db.patrols.get(patrolClientId)
      if (patrol) {
        patrol.serverId = serverId
        if (shiftEndsAt !== null) patrol.shiftEndsAt = shiftEndsAt
        await db.patrols.put(patrol)
      }
      await db.outbox.delete(seq)
    }),
  )
}

/** The server confirmed a batch: its fixes are uploaded and its item leaves the outbox, together. */
export function markBatchUploaded(seq: number, patrolClientId: string, batchId: string) {
  return attempt(() =>
    db.transaction('rw', db.patrolFixes, db.outbox, async () => {
      await db.patrolFixes.where('[patrolClientId+batchId]').equals([patrolClientId, batchId]).modify({ uploaded: 1 })
      await db.outbox.delete(seq)
    }),
  )
}

export function removeItem(seq: number) {
  return attempt(() => db.outbox.delete(seq))
}

export function noteAttempt(seq: number, error: string | null) {
  return attempt(async () => {
    const row = await db.outbox.get(seq)
    if (row) await db.outbox.update(seq, { attempts: row.attempts + 1, lastError: error })
  })
}

/** Replace the body of a start item (the server refused grids this officer no longer has). */
export function updateStartBody(seq: number, payload: PatrolPayload<PatrolStartBody>) {
  return attempt(() => db.outbox.update(seq, { payload }))
}

export function saveServerCoverage(patrolClientId: string, coverage: PatrolRow['serverCoverage']) {
  return attempt(() => db.patrols.update(patrolClientId, { serverCoverage: coverage }))
}

export function patrolOutboxItems(userId: number): Promise<Result<OutboxRow[]>> {
  return attempt(async () =>
    (await db.outbox.where('userId').equals(userId).sortBy('seq')).filter((r) => PATROL_KINDS.includes(r.kind)),
  )
}
