// /api/v1/config: public client settings (basemap, Tianditu key, version); needs no login.
import { request } from './http'
import type { ServerConfig } from './types'

export function getConfig(): Promise<ServerConfig> {
  return request<ServerConfig>('GET', '/api/v1/config', { auth: false })
}
