// Local map settings that override the server's basemap config on this device.
import type { BasemapConfig, ServerConfig } from '@/api/types'
import type { Result } from './db'
import { getKv, setKv } from './kv'

/** `server` = use GET /api/v1/config; `custom` = the fields below; `none` = no tiles, polygons only. */
export interface BasemapSettings {
  mode: 'server' | 'custom' | 'none'
  custom: Partial<BasemapConfig>
  tiandituKey: string
}

export const DEFAULT_BASEMAP_SETTINGS: BasemapSettings = { mode: 'server', custom: {}, tiandituKey: '' }

export async function loadBasemapSettings(): Promise<Result<BasemapSettings>> {
  const r = await getKv<BasemapSettings>('basemap')
  return r.ok ? { ok: true, value: { ...DEFAULT_BASEMAP_SETTINGS, ...(r.value ?? {}) } } : r
}

export function saveBasemapSettings(s: BasemapSettings): Promise<Result<void>> {
  return setKv('basemap', JSON.parse(JSON.stringify(s)))
}

export function loadServerConfig(): Promise<Result<ServerConfig | undefined>> {
  return getKv<ServerConfig>('serverConfig')
}

export function saveServerConfig(c: ServerConfig): Promise<Result<void>> {
  return setKv('serverConfig', c)
}
