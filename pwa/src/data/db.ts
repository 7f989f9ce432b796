/**
 * All local persistence of the app lives in this folder, in one IndexedDB database "gridpatrol" (Dexie).
 * What is stored where:
 *   kv        key/value device settings: `currentUserId` (who is logged in now), `locale` (zh-CN | en),
 *             `basemap` (local basemap override, see settings.ts), `serverConfig` (last GET /api/v1/config),
 *             `tasks:<userId>` (the officer's tasks of the day), `patrolMapView:<userId>` (where the patrol map
 *             last looked), `squadOfficers:<squadId>` (whom a leader can plan for offline),
 *             `coverageSnapshot:<userId>`, `caseMapSnapshot:<userId>` (the last case map loaded), `offlineMap`.
 *   sessions  one row per user id: access + refresh tokens and their expiry times (ms since epoch).
 *   profiles  one row per user id: the User from /me, visible area ids, area counts, last-synced time.
 *   areas     GeoJSON area features cached per user, key [userId+id]; what that user saw at the last sync.
 *   outbox    the one upload queue of every feature (outbox.ts; drained by outboxDrain.ts). One row per request
 *             to make: owner (userId: sent only with that user's tokens, never deleted by logout or by switching
 *             user), kind (the sender registered for it, outboxSenders.ts), ordering group (items of one group go
 *             strictly in order), payload (for patrols and tasks: the exact body to send, fixed when the item is
 *             made, so a retry sends the identical request), blob ids, attempts, next attempt time (backoff),
 *             state and last error. Nothing expires: a row leaves only when its sender says the server has it,
 *             or when its owner discards a refused one.
 *             Kinds: `patrol.start` / `patrol.points` / `patrol.end` (group `patrol:<clientId>`, payload
 *             {patrolClientId, body}), `task.create` (group `task:<client_id>`, payload {body}).
 *   blobs     (v3) binaries the outbox items need (photos) as bytes, key = id, with owner, type and size; referenced by
 *             outbox items (`blobIds`) and deleted with the last item that references them (blobs.ts).
 *   patrols   (v2) one row per patrol recorded on this device, key = client id: owner, server id once the
 *             server answered POST /patrols (client id -> server id), task, grids, start/end/shift end, why it
 *             ended, whether it was resumed from the server, the server's coverage figure once fetched.
 *   patrolFixes (v2) every GPS fix of a patrol as it arrived, key [patrolClientId+seq]; `part` counts the
 *             breaks (gaps) before it, `batchId` is '' until the fix is cut into a batch, `uploaded` 0/1.
 * Every function here returns a Result: storage errors (quota full, IndexedDB missing) are returned for the
 * UI to show, never swallowed.
 */
import Dexie, { type Table } from 'dexie'
import type { AreaFeature, AreaKind, MeResponse, Patrol, PatrolEndReason, User } from '@/api/types'

// Dexie turns its debug mode on by itself on localhost and 127.0.0.1, where the embedded server is often opened
// (make run, a squad's laptop): every query then records an async stack (console.createTask), which made the home's
// start-up tasks a third longer. The built app never wants that; development keeps it.
if (import.meta.env.PROD) Dexie.debug = false

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

export type OutboxState = 'pending' | 'retry' | 'refused'

export interface OutboxRow {
  seq?: number
  userId: number
  /** Client-made id, sent to the server so retries stay exactly-once. */
  clientId: string
  kind: string
  /** Items of one group are sent strictly in seq order; one that does not go holds back only its group. */
  group: string
  payload: unknown
  /** ids in `blobs` this item needs */
  blobIds: string[]
  createdAt: number
  attempts: number
  /** ms since epoch; not tried before this (backoff), 0 = at once */
  nextAttemptAt: number
  /** pending: not tried or offline; retry: the server failed (5xx); refused: the server said no (4xx) */
  state: OutboxState
  /** the last failure as shown to the user: the server's message (in the user's language) or ours */
  lastError: string | null
  lastErrorCode: string | null
}

export interface BlobRow {
  id: string
  userId: number
  /** the bytes, not a Blob: older WebKit webviews cannot store Blobs in IndexedDB, every engine stores these */
  bytes: ArrayBuffer
  type: string
  size: number
  createdAt: number
}

export type { PatrolEndReason }

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
  /** why it ended: here by the officer or at the shift end; on the server by itself (idle, shift_end) or otherwise */
  endReason: PatrolEndReason | null
  /** the server ended it (by itself, or on another phone) and this phone learnt it from an answer */
  endedByServer?: boolean
  /** this phone continues a patrol started elsewhere (another phone, before a crash): no start item is queued */
  resumedAt?: number | null
  /** the server refused the start: this officer already has this running patrol (409 patrol_running) */
  conflict?: Patrol | null
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
  blobs!: Table<BlobRow, string>

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
    // v3: the outbox is every feature's (ordering groups, backoff, state) and binaries get their own store.
    // Rows queued by an older version get their group (a patrol's items: that patrol) and are due at once.
    this.version(3)
      .stores({
        outbox: '++seq, userId, &clientId, createdAt, group',
        blobs: 'id, userId',
      })
      .upgrade((tx) =>
        tx.table('outbox').toCollection().modify((row: Partial<OutboxRow> & { payload?: { patrolClientId?: string } }) => {
          const patrolClientId = row.kind?.startsWith('patrol.') ? row.payload?.patrolClientId : undefined
          row.group ??= patrolClientId ? `patrol:${patrolClientId}` : `item:${row.clientId}`
          row.blobIds ??= []
          row.nextAttemptAt ??= 0
          row.state ??= row.lastError ? 'refused' : 'pending'
          row.lastErrorCode ??= null
        }),
      )
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
  if (names.includes('QuotaExceededError') || names.includes('NS_ERROR_DOM_QUOTA_REACHED')) kind = 'quota'
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
