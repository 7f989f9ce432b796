// Web Mercator XYZ tile maths for the offline map: which tiles cover a set of bboxes at some zooms, their URLs
// (built exactly as Leaflet builds them, so the service worker finds them in the cache) and a size estimate.
// Pure: no DOM, no storage; the service worker imports TILE_CACHE from here.

/** Cache Storage name of the downloaded basemap tiles; the service worker answers tile requests from it. */
export const TILE_CACHE = 'gridpatrol-tiles-v1'

/** Web Mercator stops at ±85.0511°: tiles beyond do not exist. */
export const MAX_LAT_DEG = 85.0511287798

/**
 * Average bytes of one basemap tile when nothing has been measured on this device yet. An assumption, not a
 * measurement: 256 px raster street-map tiles (PNG/JPEG) are typically 10–30 kB and label-only layers less, so
 * 20 kB errs on the large side. The page replaces it with the average of a few tiles it fetches first.
 */
export const DEFAULT_TILE_BYTES = 20_000

/** Refuse downloads larger than this many tiles (all layers): a phone is not a tile server. */
export const MAX_TILES = 30_000

/** [west, south, east, north] in degrees, in the basemap's own coordinate system (WGS-84 or GCJ-02). */
export type Bbox = [number, number, number, number]

export interface TileCoord {
  z: number
  x: number
  y: number
}

export interface TileRange {
  z: number
  minX: number
  maxX: number
  minY: number
  maxY: number
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}

/** The tile containing a point at zoom z (x grows east, y grows south, as in XYZ / Leaflet). */
export function lonLatToTile(lon: number, lat: number, z: number): { x: number; y: number } {
  const n = 2 ** z
  const latRad = (clamp(lat, -MAX_LAT_DEG, MAX_LAT_DEG) * Math.PI) / 180
  const fx = ((clamp(lon, -180, 180) + 180) / 360) * n
  const fy = ((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n
  // The east and south edges (lon 180, lat -85.05) belong to the last tile, not to a tile past the world.
  return { x: clamp(Math.floor(fx), 0, n - 1), y: clamp(Math.floor(fy), 0, n - 1) }
}

/** The inclusive range of tiles that touch a bbox at zoom z. */
export function tileRangeForBbox(bbox: Bbox, z: number): TileRange {
  const [west, south, east, north] = bbox
  const nw = lonLatToTile(Math.min(west, east), Math.max(south, north), z)
  const se = lonLatToTile(Math.max(west, east), Math.min(south, north), z)
  return { z, minX: nw.x, maxX: se.x, minY: nw.y, maxY: se.y }
}

export function rangeSize(r: TileRange): number {
  return (r.maxX - r.minX + 1) * (r.maxY - r.minY + 1)
}

function isUsableBbox(b: Bbox): boolean {
  return b.length === 4 && b.every((v) => Number.isFinite(v))
}

/**
 * Every tile touching at least one bbox, per zoom, each tile once (neighbouring grids share tiles).
 * Sorted by zoom, then x, then y, so a download walks the map in order.
 */
export function tilesForBboxes(bboxes: readonly Bbox[], zooms: readonly number[]): TileCoord[] {
  const out: TileCoord[] = []
  for (const z of [...new Set(zooms)].sort((a, b) => a - b)) {
    const seen = new Set<number>()
    const n = 2 ** z
    const atZoom: TileCoord[] = []
    for (const b of bboxes) {
      if (!isUsableBbox(b)) continue
      const r = tileRangeForBbox(b, z)
      for (let x = r.minX; x <= r.maxX; x++) {
        for (let y = r.minY; y <= r.maxY; y++) {
          const key = x * n + y // exact below z=26 (2^52)
          if (seen.has(key)) continue
          seen.add(key)
          atZoom.push({ z, x, y })
        }
      }
    }
    atZoom.sort((a, b) => a.x - b.x || a.y - b.y)
    out.push(...atZoom)
  }
  return out
}

/** Deduplicated tile count per zoom, e.g. {13: 4, 14: 9}. */
export function countTilesByZoom(bboxes: readonly Bbox[], zooms: readonly number[]): Record<number, number> {
  const counts: Record<number, number> = {}
  for (const z of zooms) counts[z] = 0
  for (const t of tilesForBboxes(bboxes, zooms)) counts[t.z] += 1
  return counts
}

/** Bbox of a GeoJSON Polygon/MultiPolygon geometry; null when it has no coordinates. */
export function geometryBbox(geometry: { type: string; coordinates: unknown } | null | undefined): Bbox | null {
  if (!geometry) return null
  let west = Infinity
  let south = Infinity
  let east = -Infinity
  let north = -Infinity
  const visit = (node: unknown) => {
    if (!Array.isArray(node)) return
    if (node.length >= 2 && typeof node[0] === 'number' && typeof node[1] === 'number') {
      const [lon, lat] = node as number[]
      if (lon < west) west = lon
      if (lon > east) east = lon
      if (lat < south) south = lat
      if (lat > north) north = lat
      return
    }
    for (const child of node) visit(child)
  }
  visit(geometry.coordinates)
  return Number.isFinite(west) ? [west, south, east, north] : null
}

export interface TileTemplate {
  url: string
  subdomains: string
}

/**
 * A tile's URL from an XYZ template, the way Leaflet 1.9's TileLayer.getTileUrl makes it: `{s}` is
 * subdomains[|x+y| mod n], `{-y}` the TMS row, `{r}` '@2x' on a high-density screen (Leaflet's Browser.retina).
 * The same URL string is what the browser requests and what the service worker looks up.
 */
export function tileUrl(template: TileTemplate, t: TileCoord, retina = false): string {
  const subdomains = template.subdomains || 'abc'
  const s = subdomains[Math.abs(t.x + t.y) % subdomains.length]
  const values: Record<string, string | number> = {
    s,
    z: t.z,
    x: t.x,
    y: t.y,
    '-y': 2 ** t.z - 1 - t.y,
    r: retina ? '@2x' : '',
  }
  return template.url.replace(/\{ *([\w_ -]+) *\}/g, (m, key: string) => (key in values ? String(values[key]) : m))
}

export interface SizeEstimate {
  tiles: number
  bytes: number
  bytesPerTile: number
  /** `measured` = average of tiles fetched on this device; `default` = DEFAULT_TILE_BYTES */
  basis: 'measured' | 'default'
}

/** Estimated download size; `sampleBytes` are sizes of tiles already fetched (empty = use the constant). */
export function estimateDownload(tiles: number, sampleBytes: readonly number[] = []): SizeEstimate {
  const usable = sampleBytes.filter((b) => Number.isFinite(b) && b > 0)
  const bytesPerTile = usable.length
    ? Math.round(usable.reduce((a, b) => a + b, 0) / usable.length)
    : DEFAULT_TILE_BYTES
  return { tiles, bytes: tiles * bytesPerTile, bytesPerTile, basis: usable.length ? 'measured' : 'default' }
}

/** A few tiles spread over the list (first, middle, last and between) to measure the average size on. */
export function sampleTiles<T>(tiles: readonly T[], count = 6): T[] {
  if (tiles.length <= count) return [...tiles]
  const out: T[] = []
  for (let i = 0; i < count; i++) out.push(tiles[Math.round((i * (tiles.length - 1)) / (count - 1))])
  return out
}

/** 1 234 567 -> "1.2 MB" (decimal units, as phones show storage). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 B'
  if (bytes < 1000) return `${Math.round(bytes)} B`
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(bytes < 1e4 ? 1 : 0)} kB`
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`
  return `${(bytes / 1e9).toFixed(2)} GB`
}
