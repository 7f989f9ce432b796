import { describe, expect, it } from 'vitest'
import { resolveBasemap } from '@/components/map/basemap'
import { DEFAULT_BASEMAP_SETTINGS } from '@/data/settings'
import type { ServerConfig } from '@/api/types'

const amap: ServerConfig = {
  basemap: { url_template: 'https://wprd0{s}.example.cn/{z}/{x}/{y}', attribution: '高德', subdomains: '1234', crs: 'gcj02', max_zoom: 18 },
  tianditu_key: null,
  version: '0.1.0',
}

describe('resolveBasemap', () => {
  it('draws no tiles when nothing is configured', () => {
    expect(resolveBasemap(null, DEFAULT_BASEMAP_SETTINGS)).toBeNull()
    expect(resolveBasemap({ basemap: null, tianditu_key: null, version: '1' }, DEFAULT_BASEMAP_SETTINGS)).toBeNull()
  })

  it('uses the server template and its coordinate system', () => {
    const b = resolveBasemap(amap, DEFAULT_BASEMAP_SETTINGS)!
    expect(b.crs).toBe('gcj02')
    expect(b.layers).toHaveLength(1)
    expect(b.layers[0]).toMatchObject({ subdomains: '1234', attribution: '高德' })
  })

  it('uses Tianditu vec_w + cva_w when only a key is set (local key over server key)', () => {
    const b = resolveBasemap({ basemap: null, tianditu_key: 'SERVERKEY', version: '1' }, { ...DEFAULT_BASEMAP_SETTINGS, tiandituKey: 'LOCALKEY' })!
    expect(b.crs).toBe('wgs84')
    expect(b.layers.map((l) => l.url)).toEqual([
      'https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=LOCALKEY',
      'https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=LOCALKEY',
    ])
    expect(b.layers[0].subdomains).toBe('01234567')
    expect(b.layers[0].attribution).toContain('天地图')
  })

  it('lets local settings override or switch off the server basemap', () => {
    expect(resolveBasemap(amap, { ...DEFAULT_BASEMAP_SETTINGS, mode: 'none' })).toBeNull()
    const b = resolveBasemap(amap, {
      mode: 'custom',
      custom: { url_template: 'https://tiles.example/{z}/{x}/{y}.png', crs: 'wgs84' },
      tiandituKey: '',
    })!
    expect(b.crs).toBe('wgs84')
    expect(b.layers[0].url).toBe('https://tiles.example/{z}/{x}/{y}.png')
  })
})
