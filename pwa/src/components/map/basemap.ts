// Decide which tile layers to draw: local settings over server config; Tianditu when only a key is set; else none.
import type { ServerConfig } from '@/api/types'
import type { BasemapSettings } from '@/data/settings'

export interface TileSpec {
  url: string
  attribution: string
  subdomains: string
  maxZoom: number
}

export interface ResolvedBasemap {
  name: string
  crs: 'wgs84' | 'gcj02'
  layers: TileSpec[]
}

// Tianditu tiles are CGCS2000 ≈ WGS-84, so no coordinate shift. Public maps in China must show the provider and
// its map approval number (审图号): put the current number from tianditu.gov.cn in the server's
// `basemap.attribution` or the local attribution field; it is appended here.
export const TIANDITU_ATTRIBUTION = '<a href="https://www.tianditu.gov.cn" target="_blank" rel="noopener">天地图</a> · 国家地理信息公共服务平台'

export function tiandituLayers(key: string, extraAttribution = ''): TileSpec[] {
  const k = encodeURIComponent(key)
  const url = (layer: 'vec' | 'cva') =>
    `https://t{s}.tianditu.gov.cn/${layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=${layer}` +
    `&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=${k}`
  const attribution = extraAttribution ? `${TIANDITU_ATTRIBUTION} ${extraAttribution}` : TIANDITU_ATTRIBUTION
  return [
    { url: url('vec'), attribution, subdomains: '01234567', maxZoom: 18 },
    { url: url('cva'), attribution: '', subdomains: '01234567', maxZoom: 18 },
  ]
}

/** null = draw polygons on a plain background with no tile layer at all. */
export function resolveBasemap(
  server: ServerConfig | null | undefined,
  local: BasemapSettings,
): ResolvedBasemap | null {
  if (local.mode === 'none') return null
  const source = local.mode === 'custom' ? local.custom : (server?.basemap ?? {})
  const key = (local.tiandituKey || server?.tianditu_key || '').trim()
  const template = (source.url_template ?? '').trim()
  if (template) {
    return {
      name: hostOf(template),
      crs: source.crs === 'gcj02' ? 'gcj02' : 'wgs84',
      layers: [
        {
          url: template,
          attribution: source.attribution ?? '',
          subdomains: source.subdomains || 'abc',
          maxZoom: source.max_zoom ?? 18,
        },
      ],
    }
  }
  if (key) return { name: '天地图', crs: 'wgs84', layers: tiandituLayers(key, source.attribution ?? '') }
  return null
}

function hostOf(template: string): string {
  const m = /^[a-z]+:\/\/([^/]+)/i.exec(template)
  return m ? m[1].replace(/\{s\}\.?/, '') : template
}
