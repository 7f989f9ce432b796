// The logged-in user as the app sees it (one reactive store), and the actions on it:
// restore from IndexedDB at start, log in, re-enter password, sync, log out.
import { reactive, shallowRef } from 'vue'
import * as authApi from '@/api/auth'
import { getMe } from '@/api/me'
import { listAllAreas } from '@/api/areas'
import { getConfig } from '@/api/config'
import { ApiError, AuthExpiredError, OfflineError, setAuthProvider } from '@/api/http'
import type { AreaFeature, AreaKind, MeResponse, ServerConfig, User } from '@/api/types'
import type { StorageError } from '@/data/db'
import { loadAreas, loadProfile, saveSync, saveUser } from '@/data/profile'
import {
  deleteSession,
  getCurrentUserId,
  loadSession,
  saveSession,
  setCurrentUserId,
  tokensFromResponse,
} from '@/data/session'
import { pendingCount } from '@/data/outbox'
import { loadServerConfig, saveServerConfig } from '@/data/settings'
import { TokenKeeper } from '@/lib/tokenKeeper'
import { afterPaint } from '@/lib/afterPaint'
import { online } from './useConnectivity'
import { disablePush } from './usePush'

export const SYNC_KINDS: AreaKind[] = ['county', 'town', 'zone', 'grid', 'village']

export const session = reactive({
  /** true once the start-up restore from IndexedDB has finished */
  ready: false,
  userId: null as number | null,
  user: null as User | null,
  areaIds: [] as number[],
  areaCounts: {} as MeResponse['area_counts'],
  lastSyncedAt: null as number | null,
  /** the refresh token was rejected: show the password dialog; nothing local is dropped */
  needsPassword: false,
  syncing: false,
  pending: 0,
  serverConfig: null as ServerConfig | null,
  storageError: null as StorageError | null,
})

/** Areas kept out of the reactive store: hundreds of polygons need no deep reactivity. */
export const areas = shallowRef<AreaFeature[]>([])
/** The areas IndexedDB is known to hold for a user (read from it or written to it): a sync that brings the same
 * ones rewrites only the profile, not every polygon (deleting and re-adding them was one of start-up's long tasks). */
let storedAreas: { userId: number; features: AreaFeature[] } | null = null

type ErrorSink = (err: unknown) => void
let reportError: ErrorSink = (err) => console.error(err)
export function setErrorSink(sink: ErrorSink): void {
  reportError = sink
}

function storageFailed(error: StorageError) {
  session.storageError = error
  reportError(error)
}

export const keeper = new TokenKeeper({
  onAuthExpired: (userId) => {
    if (session.userId === userId) session.needsPassword = true
  },
  onStorageError: storageFailed,
  isOnline: () => online.value,
})
setAuthProvider(keeper)

function clearState() {
  session.userId = null
  session.user = null
  session.areaIds = []
  session.areaCounts = {}
  session.lastSyncedAt = null
  session.needsPassword = false
  session.pending = 0
  areas.value = []
  storedAreas = null
}

/** Load the user of this device from IndexedDB: works with no network at all. */
export async function restore(): Promise<void> {
  try {
    const cfg = await loadServerConfig()
    if (cfg.ok) session.serverConfig = cfg.value ?? null
    else storageFailed(cfg.error)
    const current = await getCurrentUserId()
    if (!current.ok) return storageFailed(current.error)
    if (current.value === undefined) return
    await activateUser(current.value)
  } finally {
    session.ready = true
  }
}

async function activateUser(userId: number): Promise<void> {
  const [tokens, profile, cached] = await Promise.all([loadSession(userId), loadProfile(userId), loadAreas(userId)])
  if (!tokens.ok) return storageFailed(tokens.error)
  if (!profile.ok) return storageFailed(profile.error)
  if (!profile.value) return // never got as far as a profile: treat as logged out
  clearState()
  session.userId = userId
  session.user = profile.value.user
  session.areaIds = profile.value.areaIds
  session.areaCounts = profile.value.areaCounts
  session.lastSyncedAt = profile.value.lastSyncedAt
  keeper.setSession(tokens.value ?? null)
  // Logged out with data kept, or tokens lost: the password brings the session back.
  session.needsPassword = !tokens.value
  if (cached.ok) {
    areas.value = cached.value
    storedAreas = { userId, features: cached.value }
  } else storageFailed(cached.error)
  await refreshPending()
}

export async function refreshPending(): Promise<void> {
  if (session.userId === null) return
  const r = await pendingCount(session.userId)
  if (r.ok) session.pending = r.value
  else storageFailed(r.error)
}

/** Log in (or in as someone else). Other users' data on this device stays untouched. Throws ApiError/OfflineError. */
export async function login(username: string, password: string): Promise<User> {
  const res = await authApi.login(username.trim(), password)
  const tokens = tokensFromResponse(res)
  keeper.setSession(tokens)
  const writes = [await saveSession(tokens), await saveUser(res.user), await setCurrentUserId(res.user.id)]
  for (const w of writes) if (!w.ok) storageFailed(w.error)
  if (session.userId !== res.user.id) {
    clearState()
    const cached = await loadAreas(res.user.id)
    if (cached.ok) {
      areas.value = cached.value
      storedAreas = { userId: res.user.id, features: cached.value }
    }
    const profile = await loadProfile(res.user.id)
    if (profile.ok && profile.value) {
      session.areaIds = profile.value.areaIds
      session.areaCounts = profile.value.areaCounts
      session.lastSyncedAt = profile.value.lastSyncedAt
    }
  }
  session.userId = res.user.id
  session.user = res.user
  session.needsPassword = false
  await refreshPending()
  void sync()
  return res.user
}

/** After the refresh token was rejected: same user, new password entry; all local data kept. */
export async function relogin(password: string): Promise<void> {
  if (!session.user) throw new AuthExpiredError()
  const user = await login(session.user.username, password)
  if (user.id !== session.userId) throw new AuthExpiredError()
}

let syncPromise: Promise<boolean> | null = null

/** The same features, whatever their order (the device keeps them by id, the server sends them by kind). */
export function sameFeatures(a: AreaFeature[], b: AreaFeature[]): boolean {
  if (a.length !== b.length) return false
  const before = new Map(a.map((f) => [String(f.id), JSON.stringify(f)]))
  return b.every((f) => before.get(String(f.id)) === JSON.stringify(f))
}

/** Pull /me and all visible areas, store them for offline use. Returns false when it could not finish. */
export function sync(): Promise<boolean> {
  if (!syncPromise) syncPromise = doSync().finally(() => (syncPromise = null))
  return syncPromise
}

async function doSync(): Promise<boolean> {
  // the screen restored from IndexedDB paints first; the network catches up right after
  await afterPaint()
  void fetchConfig()
  const userId = session.userId
  if (userId === null || session.needsPassword || !keeper.session) return false
  session.syncing = true
  try {
    const me = await getMe()
    const lists = await Promise.all(
      SYNC_KINDS.map((kind) =>
        listAllAreas({ kind }).catch((err) => {
          // A kind this user may not list is simply empty for them.
          if (err instanceof ApiError && (err.status === 403 || err.status === 404)) return [] as AreaFeature[]
          throw err
        }),
      ),
    )
    if (session.userId !== userId) return false // switched user meanwhile
    const features = lists.flat()
    const areasStored = storedAreas?.userId === userId && sameFeatures(storedAreas.features, features)
    // usually the screen shows the very list read from the device: then the comparison above answers for it too
    const shownSame = (areasStored && areas.value === storedAreas?.features) || sameFeatures(areas.value, features)
    const saved = await saveSync(me, features, { writeAreas: !areasStored })
    if (saved.ok) storedAreas = { userId, features: shownSame ? areas.value : features } // the list on screen, if equal
    else storageFailed(saved.error)
    session.user = me.user
    session.areaIds = me.area_ids
    session.areaCounts = me.area_counts
    session.lastSyncedAt = saved.ok ? saved.value.lastSyncedAt : Date.now()
    // The same areas as those restored from the device (the usual case): keep them, so the map and the lists are
    // not drawn a second time right after start-up.
    if (!shownSame) areas.value = features
    await refreshPending()
    return true
  } catch (err) {
    if (err instanceof OfflineError || err instanceof AuthExpiredError) return false // banner / dialog show it
    reportError(err)
    return false
  } finally {
    session.syncing = false
  }
}

export async function fetchConfig(): Promise<void> {
  try {
    const cfg = await getConfig()
    session.serverConfig = cfg
    const saved = await saveServerConfig(cfg)
    if (!saved.ok) storageFailed(saved.error)
  } catch (err) {
    if (!(err instanceof OfflineError)) console.warn('config', err)
  }
}

/** Log out: forget this user's tokens only. Profile, areas and the outbox of every user stay on the device. */
export async function logout(): Promise<void> {
  const userId = session.userId
  const tokens = keeper.session
  // this browser stops receiving this user's pushes (a shared phone: the next user must not see them); offline,
  // the server drops them when the next user subscribes the same browser
  if (userId !== null) await disablePush(userId).catch(() => undefined)
  if (tokens && online.value) {
    try {
      await authApi.logout(tokens.refreshToken)
    } catch (err) {
      // Offline or already revoked: the local logout still happens; the token expires on the server by itself.
      if (!(err instanceof OfflineError) && !(err instanceof ApiError)) throw err
    }
  }
  keeper.setSession(null)
  if (userId !== null) {
    const r = await deleteSession(userId)
    if (!r.ok) storageFailed(r.error)
  }
  const c = await setCurrentUserId(null)
  if (!c.ok) storageFailed(c.error)
  clearState()
}

