/**
 * All local persistence of the app lives in this folder, in one IndexedDB database "gridpatrol" (Dexie).
 * What is stored where:
 *   kv        key/value device settings: `currentUserId` (who is logged in now), `locale` (zh-CN | en),
 *             `basemap` (local basemap override, see settings.ts), `serverConfig` (last GET /api/v1/config).
 *   sessions  one row per user id: access + refresh tokens and their expiry times (ms since epoch).
 *   profiles  one row per user id: the User from /me, visible area ids, area counts, last-synced time.
 *   areas     GeoJSON area features cached per user, key [userId+id]; what that user saw at the last sync.
 *   outbox    per-user queue of records not yet uploaded (patrols, reports: filled by later features).
 *             Never expires and is never deleted by logout or by switching user.
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

export class GridPatrolDB extends Dexie {
  kv!: Table<KvRow, string>
  sessions!: Table<SessionRow, number>
  profiles!: Table<ProfileRow, number>
  areas!: Table<AreaRow, [number, number]>
  outbox!: Table<OutboxRow, number>

  constructor(name = 'gridpatrol') {
    super(name)
    this.version(1).stores({
      kv: 'key',
      sessions: 'userId',
      profiles: 'userId',
      areas: '[userId+id], userId, [userId+kind]',
      outbox: '++seq, userId, &clientId, createdAt',
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
