// The user's profile, visible areas and last-synced time, kept per user id for offline start.
import type { AreaFeature, MeResponse, User } from '@/api/types'
import { attempt, db, type AreaRow, type ProfileRow, type Result } from './db'

export function loadProfile(userId: number): Promise<Result<ProfileRow | undefined>> {
  return attempt(() => db.profiles.get(userId))
}

/** Store the user at login before the first full sync (keeps an older sync's data if there is one). */
export function saveUser(user: User): Promise<Result<ProfileRow>> {
  return attempt(() =>
    db.transaction('rw', db.profiles, async () => {
      const old = await db.profiles.get(user.id)
      const row: ProfileRow = old
        ? { ...old, user }
        : { userId: user.id, user, areaIds: [], areaCounts: {}, lastSyncedAt: null }
      await db.profiles.put(row)
      return row
    }),
  )
}

/** Replace one user's synced state (profile + areas) in one transaction, so a half sync never shows.
 * `writeAreas: false` when the device already holds exactly these areas: only the profile is written. */
export function saveSync(
  me: MeResponse,
  features: AreaFeature[],
  { syncedAt = Date.now(), writeAreas = true }: { syncedAt?: number; writeAreas?: boolean } = {},
): Promise<Result<ProfileRow>> {
  const userId = me.user.id
  return attempt(() =>
    db.transaction('rw', db.profiles, db.areas, async () => {
      const row: ProfileRow = {
        userId,
        user: me.user,
        areaIds: me.area_ids,
        areaCounts: me.area_counts,
        lastSyncedAt: syncedAt,
      }
      if (writeAreas) {
        await db.areas.where('userId').equals(userId).delete()
        await db.areas.bulkPut(
          features.map((f): AreaRow => ({ userId, id: Number(f.id), kind: f.properties.kind, feature: f })),
        )
      }
      await db.profiles.put(row)
      return row
    }),
  )
}

export function loadAreas(userId: number): Promise<Result<AreaFeature[]>> {
  return attempt(async () => (await db.areas.where('userId').equals(userId).toArray()).map((r) => r.feature))
}
