// Device-wide key/value settings (current user, language, basemap override, cached server config).
import { attempt, db, type Result } from './db'

export function getKv<T>(key: string): Promise<Result<T | undefined>> {
  return attempt(async () => (await db.kv.get(key))?.value as T | undefined)
}

export function setKv(key: string, value: unknown): Promise<Result<void>> {
  return attempt(async () => {
    await db.kv.put({ key, value })
  })
}

export function deleteKv(key: string): Promise<Result<void>> {
  return attempt(() => db.kv.delete(key))
}
