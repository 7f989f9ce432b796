// Tile maths of the offline map: tiles of a point and a bbox, dedup across grids, Leaflet-identical URLs, estimate.
import { describe, expect, it } from 'vitest'
import L from 'leaflet'
import {
  DEFAULT_TILE_BYTES,
  countTilesByZoom,
  estimateDownload,
  formatBytes,
  geometryBbox,
  lonLatToTile,
  rangeSize,
  sampleTiles,
  tileRangeForBbox,
  tilesForBboxes,
  tileUrl,
  type Bbox,
} from '@/lib/tiles'

/** Leaflet's own projection: the tile a point falls in, as the map computes it. */
function leafletTile(lon: number, lat: number, z: number) {
  const p = L.CRS.EPSG3857.latLngToPoint(L.latLng(lat, lon), z)
  return { x: Math.floor(p.x / 256), y: Math.floor(p.y / 256) }
}

describe('lonLatToTile', () => {
  it('knows the well-known tiles', () => {
    expect(lonLatToTile(0, 0, 0)).toEqual({ x: 0, y: 0 })
    expect(lonLatToTile(0.0001, -0.0001, 1)).toEqual({ x: 1, y: 1 })
    expect(lonLatToTile(116.3975, 39.9087, 10)).toEqual({ x: 843, y: 388 }) // Tiananmen
  })

  it('agrees with Leaflet around the demo town at every offline zoom', () => {
    for (const [lon, lat] of [[115.5581, 38.1013], [115.49, 38.05], [115.6123, 38.1555]]) {
      for (let z = 10; z <= 19; z++) expect(lonLatToTile(lon, lat, z)).toEqual(leafletTile(lon, lat, z))
    }
  })

  it('keeps the world edges and the poles inside the tile grid', () => {
    expect(lonLatToTile(180, -90, 3)).toEqual({ x: 7, y: 7 })
    expect(lonLatToTile(-180, 90, 3)).toEqual({ x: 0, y: 0 })
  })
})

describe('tiles of bboxes', () => {
  const grid: Bbox = [115.557, 38.098, 115.561, 38.1014]

  it('covers a bbox with the inclusive tile range at each zoom', () => {
    const r = tileRangeForBbox(grid, 16)
    expect(r).toEqual({ z: 16, ...minMax(grid, 16) })
    expect(rangeSize(tileRangeForBbox(grid, 10))).toBe(1)
    // growing zoom never shrinks the count, and roughly quadruples it once the bbox spans many tiles
    const counts = [13, 14, 15, 16, 17, 18].map((z) => rangeSize(tileRangeForBbox(grid, z)))
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1])
  })

  it('a bbox given east-to-west or upside down gives the same tiles', () => {
    const [w, s, e, n] = grid
    expect(tileRangeForBbox([e, n, w, s], 17)).toEqual(tileRangeForBbox(grid, 17))
  })

  it('counts each shared tile once (neighbouring grids)', () => {
    const left: Bbox = [115.55, 38.09, 115.56, 38.1]
    const right: Bbox = [115.555, 38.09, 115.565, 38.1] // overlaps half of left
    const z = 16
    const a = rangeSize(tileRangeForBbox(left, z))
    const b = rangeSize(tileRangeForBbox(right, z))
    const both = tilesForBboxes([left, right], [z])
    expect(both.length).toBeLessThan(a + b)
    expect(both.length).toBe(rangeSize(tileRangeForBbox([115.55, 38.09, 115.565, 38.1], z)))
    expect(new Set(both.map((t) => `${t.z}/${t.x}/${t.y}`)).size).toBe(both.length)
    // the same grid twice adds nothing
    expect(tilesForBboxes([left, left, left], [z])).toHaveLength(a)
  })

  it('lists tiles per zoom in order and counts them per zoom', () => {
    const tiles = tilesForBboxes([grid], [15, 13, 14, 13])
    expect([...new Set(tiles.map((t) => t.z))]).toEqual([13, 14, 15])
    const counts = countTilesByZoom([grid], [13, 14, 15])
    expect(counts[13] + counts[14] + counts[15]).toBe(tiles.length)
    for (const z of [13, 14, 15]) expect(counts[z]).toBe(rangeSize(tileRangeForBbox(grid, z)))
  })

  it('skips unusable bboxes and handles no grids or no zooms', () => {
    expect(tilesForBboxes([], [13, 14])).toEqual([])
    expect(tilesForBboxes([grid], [])).toEqual([])
    expect(tilesForBboxes([[NaN, 0, 1, 1] as Bbox], [5])).toEqual([])
    expect(countTilesByZoom([], [13])).toEqual({ 13: 0 })
  })
})

function minMax(b: Bbox, z: number) {
  const nw = leafletTile(b[0], b[3], z)
  const se = leafletTile(b[2], b[1], z)
  return { minX: nw.x, maxX: se.x, minY: nw.y, maxY: se.y }
}

describe('geometryBbox', () => {
  it('takes Polygon and MultiPolygon coordinates', () => {
    expect(geometryBbox({ type: 'Polygon', coordinates: [[[1, 2], [3, 5], [2, -1], [1, 2]]] })).toEqual([1, -1, 3, 5])
    expect(
      geometryBbox({ type: 'MultiPolygon', coordinates: [[[[1, 1], [2, 2], [1, 2], [1, 1]]], [[[5, 0], [6, 1], [5, 1], [5, 0]]]] }),
    ).toEqual([1, 0, 6, 2])
  })
  it('is null for no geometry or no coordinates', () => {
    expect(geometryBbox(null)).toBeNull()
    expect(geometryBbox({ type: 'Polygon', coordinates: [] })).toBeNull()
  })
})

describe('tileUrl', () => {
  /** The URL Leaflet's TileLayer requests for a tile. */
  function leafletUrl(url: string, subdomains: string, z: number, x: number, y: number): string {
    const layer = L.tileLayer(url, { subdomains }) as unknown as {
      _map: unknown
      _tileZoom: number
      _globalTileRange: unknown
      getTileUrl(c: L.Coords): string
    }
    layer._map = { options: { crs: L.CRS.EPSG3857 } }
    layer._tileZoom = z
    layer._globalTileRange = { max: { y: 2 ** z - 1 } }
    return layer.getTileUrl(Object.assign(L.point(x, y), { z }) as L.Coords)
  }

  const tianditu =
    'https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec&STYLE=default' +
    '&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=KEY'

  it('is exactly the URL Leaflet requests (so the service worker finds it in the cache)', () => {
    const templates: [string, string][] = [
      ['https://tiles.test/{z}/{x}/{y}.png', 'abc'],
      ['https://{s}.tile.example.org/{z}/{x}/{y}{r}.png', 'abc'],
      [tianditu, '01234567'],
      ['https://webrd0{s}.is.autonavi.com/appmaptile?style=8&x={x}&y={y}&z={z}', '1234'],
      ['https://tms.example/{z}/{x}/{-y}.png', ''],
    ]
    for (const [url, subdomains] of templates) {
      for (const [z, x, y] of [[13, 6725, 3106], [16, 53803, 24851], [18, 215213, 99406], [17, 107607, 49703]]) {
        expect(tileUrl({ url, subdomains: subdomains || 'abc' }, { z, x, y })).toBe(
          leafletUrl(url, subdomains || 'abc', z, x, y),
        )
      }
    }
  })

  it('spreads subdomains like Leaflet and fills the TMS row and retina suffix', () => {
    expect(tileUrl({ url: 'https://t{s}.x/{z}/{x}/{y}', subdomains: '01234567' }, { z: 3, x: 5, y: 4 })).toBe(
      'https://t1.x/3/5/4',
    )
    expect(tileUrl({ url: '/{z}/{x}/{-y}', subdomains: 'abc' }, { z: 2, x: 1, y: 0 })).toBe('/2/1/3')
    expect(tileUrl({ url: '/{z}/{x}/{y}{r}.png', subdomains: 'abc' }, { z: 2, x: 1, y: 0 }, true)).toBe('/2/1/0@2x.png')
  })
})

describe('size estimate', () => {
  it('uses the documented constant until tiles were measured', () => {
    expect(estimateDownload(100)).toEqual({
      tiles: 100,
      bytes: 100 * DEFAULT_TILE_BYTES,
      bytesPerTile: DEFAULT_TILE_BYTES,
      basis: 'default',
    })
  })

  it('uses the average of the measured tiles, ignoring failed (0) ones', () => {
    expect(estimateDownload(10, [1000, 3000, 0, 2000])).toEqual({ tiles: 10, bytes: 20_000, bytesPerTile: 2000, basis: 'measured' })
    expect(estimateDownload(0, [5000]).bytes).toBe(0)
  })

  it('samples tiles spread over the list', () => {
    const list = Array.from({ length: 101 }, (_, i) => i)
    expect(sampleTiles(list, 5)).toEqual([0, 25, 50, 75, 100])
    expect(sampleTiles([1, 2], 6)).toEqual([1, 2])
  })

  it('formats sizes in decimal units', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(20_000)).toBe('20 kB')
    expect(formatBytes(1_234_567)).toBe('1.2 MB')
    expect(formatBytes(45_600_000)).toBe('46 MB')
    expect(formatBytes(2.5e9)).toBe('2.50 GB')
  })
})
