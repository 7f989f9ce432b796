/**
 * All local persistence of the app lives in this folder, in one IndexedDB database "gridpatrol" (Dexie).
 * What is stored where:
 *   kv        key/value device settings: `currentUserId` (who is logged in now), `locale` (zh-CN | en),
 *             `basemap` (local basemap override, see settings.ts), `serverConfig` (last GET /api/v1/config).
 *   sessions  one row per user id: access + refresh tokens and their expiry times (ms since epoch).
 *   profiles  one row per user id: the User from /me, visible area ids, area counts, last-synced time.
 *   areas     GeoJSON area features cached per user, key [userId+id]; what that user saw at the last sync.
 *   outbox    per-user queue of records not yet uploaded (patrols, reports: filled by later features).
 *             Never expires and is never deleted by logout or by switching user. Patrol items (patrols.ts):
 *             `patrol.start` / `patrol.points` / `patrol.end`, payload {patrolClientId, body}; the body is
 *             exactly what is POSTed, fixed when the item is made, so a retry sends the identical request.
 *   patrols   (v2) one row per patrol started on this device, key = client id: owner, server id once the
 *             server answered POST /patrols (client id -> server id), task, grids, start/end/shift end,
 *             the server's coverage figure once fetched.
 *   patrolFixes (v2) every GPS fix of a patrol as it arrived, key [patrolClientId+seq]; `part` counts the
 *             breaks (gaps) before it, `batchId` is '' until the fix is cut into a batch, `uploaded` 0/1.
 * Every function here returns a Result: storage errors (quota full, IndexedDB missing) are returned for the
 * UI to show, never swallowed.
 */
import Dexie, { type Table } from 'dexie'
import type { AreaFeature, AreaKind, MeResponse, User } from '@/api/types'

export interface KvRow {
  key: string
  value: unknown
}

export interface SessionRow {
  userId: number
  accessToken: string
  accessExpiresAt: number
  refreshToken: string
  refreshExpiresAt: number
}

export interface ProfileRow {
  userId: number
  user: User
  areaIds: number[]
  areaCounts: MeResponse['area_counts']
  lastSyncedAt: number | null
}

export interface AreaRow {
  userId: number
  id: number
  kind: AreaKind
  feature: AreaFeature
}

export interface OutboxRow {
  seq?: number
  userId: number
  /** Client-made id, sent to the server so retries stay exactly-once. */
  clientId: string
  kind: string
  payload: unknown
  createdAt: number
  attempts: number
  lastError: string | null
}

export interface PatrolRow {
  /** Client-made id (crypto.randomUUID), the patrol's key here and its client_id on the server. */
  clientId: string
  userId: number
  /** The server's id, from the answer to POST /patrols; null until then. */
  serverId: number | null
  taskId: number | null
  gridIds: number[]
  /** ms since epoch */
  startedAt: number
  endedAt: number | null
  /** Recording stops here (the task's shift end); null without a task. */
  shiftEndsAt: number | null
  endReason: 'user' | 'shift_end' | null
  /** GET /patrols/{id}/coverage as last fetched, and how many fixes were uploaded when it was. */
  serverCoverage: { fetchedAt: number; fixCount: number; items: { grid_id: number; covered_ratio: number; covered_m2: number }[] } | null
}

export interface PatrolFixRow {
  patrolClientId: string
  /** 0, 1, 2… in arrival order within the patrol */
  seq: number
  /** the fix's own time, ms since epoch */
  t: number
  lon: number
  lat: number
  accuracyM: number
  speedMps: number | null
  headingDeg: number | null
  altitudeM: number | null
  /** line part: increments after a gap, so nothing is drawn or counted across it */
  part: number
  /** '' until cut into a batch (IndexedDB cannot index null) */
  batchId: string
  uploaded: 0 | 1
}

export class GridPatrolDB extends Dexie {
  kv!: Table<KvRow, string>
  sessions!: Table<SessionRow, number>
  profiles!: Table<ProfileRow, number>
  areas!: Table<AreaRow, [number, number]>
  outbox!: Table<OutboxRow, number>
  patrols!: Table<PatrolRow, string>
  patrolFixes!: Table<PatrolFixRow, [string, number]>

  constructor(name = 'gridpatrol') {
    super(name)
    this.version(1).stores({
      kv: 'key',
      sessions: 'userId',
      profiles: 'userId',
      areas: '[userId+id], userId, [userId+kind]',
      outbox: '++seq, userId, &clientId, createdAt',
    })
    // v2 adds the patrol tables; v1 stores and their rows are kept as they are (nothing to migrate).
    this.version(2).stores({
      patrols: 'clientId, userId, [userId+startedAt]',
      patrolFixes: '[patrolClientId+seq], [patrolClientId+batchId], [patrolClientId+uploaded]',
    })
  }
}

export let db = new GridPatrolDB()

/** Tests swap in a fresh database. */
export function useDatabase(next: GridPatrolDB): void {
  db = next
}

export type StorageErrorKind = 'quota' | 'unavailable' | 'unknown'

export class StorageError extends Error {
  constructor(
    readonly kind: StorageErrorKind,
    message: string,
    readonly cause?: unknown,
  ) {
    super(message)
    this.name = 'StorageError'
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: StorageError }

export function toStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err
  const e = err as { name?: string; message?: string; inner?: { name?: string } } | undefined
  const names = [e?.name, e?.inner?.name]
  let kind: StorageErrorKind = 'unknown'
  if (names.includes('QuotaExceededError')) kind = 'quota'
  else if (names.some((n) => n === 'MissingAPIError' || n === 'InvalidStateError' || n === 'OpenFailedError'))
    kind = 'unavailable'
  return new StorageError(kind, e?.message ?? String(err), err)
}

/** Run a storage operation and turn any failure into a returned StorageError. */
export async function attempt<T>(op: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await op() }
  } catch (err) {
    return { ok: false, error: toStorageError(err) }
  }
}
