// Loads a fresh copy of the app's modules over a named fake IndexedDB, as if the page had been reloaded.
import { vi } from 'vitest'
import { MockServer } from './mockServer'

export async function loadApp(server: MockServer, dbName: string) {
  vi.resetModules()
  vi.stubGlobal('fetch', server.fetch)
  const dbMod = await import('@/data/db')
  dbMod.useDatabase(new dbMod.GridPatrolDB(dbName))
  const sessionMod = await import('@/composables/useSession')
  const errors: unknown[] = []
  sessionMod.setErrorSink((e) => errors.push(e))
  const connectivity = await import('@/composables/useConnectivity')
  const http = await import('@/api/http')
  // what startConnectivity does, without timers and window listeners
  http.onConnectivity((ok) => (connectivity.online.value = ok))
  await sessionMod.restore()
  return {
    ...sessionMod,
    db: dbMod.db,
    dbMod,
    online: connectivity.online,
    http,
    errors,
    outbox: await import('@/data/outbox'),
    sessionData: await import('@/data/session'),
    profile: await import('@/data/profile'),
    me: await import('@/api/me'),
  }
}

let n = 0
export function uniqueDbName(): string {
  return `gridpatrol-test-${Date.now()}-${++n}`
}
