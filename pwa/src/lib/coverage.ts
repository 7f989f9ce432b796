// Local estimate of a grid's patrol coverage: the share of 10 m cells whose centre lies within 30 m of the track.
//
// Cells are laid out in local equirectangular metres around the grid (a few hundred metres across, so the
// projection error is far below a cell). A cell belongs to the grid when its centre is inside the polygon.
// The track comes as parts (lines broken at gaps): a part covers the cells near its own segments, never
// anything between two parts. The server computes the authoritative figure on a town-wide raster; this one
// is shown as an estimate until every batch is uploaded.

export type LonLat = readonly [number, number]

/** GeoJSON Polygon or MultiPolygon coordinates in WGS-84 lon/lat. */
export interface PolygonalGeometry {
  type: 'Polygon' | 'MultiPolygon'
  coordinates: number[][][] | number[][][][]
}

export const DEFAULT_CELL_SIZE_M = 10
export const DEFAULT_RADIUS_M = 30
const EARTH_RADIUS_M = 6_371_008.8
const M_PER_DEG = (Math.PI / 180) * EARTH_RADIUS_M

/** Every ring (outer and holes) of a Polygon or MultiPolygon; even-odd filling makes holes holes. */
export function ringsOf(geometry: PolygonalGeometry): number[][][] {
  if (geometry.type === 'Polygon') return geometry.coordinates as number[][][]
  return (geometry.coordinates as number[][][][]).flat()
}

/** Even-odd point-in-polygon test on lon/lat; fine for grids a few km across. */
export function pointInGeometry(point: LonLat, geometry: PolygonalGeometry | null | undefined): boolean {
  if (!geometry) return false
  const [x, y] = point
  let inside = false
  for (const ring of ringsOf(geometry)) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i]
      const [xj, yj] = ring[j]
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
    }
  }
  return inside
}

/** Lon/lat bounds [minLon, minLat, maxLon, maxLat] of a geometry. */
export function boundsOf(geometry: PolygonalGeometry): [number, number, number, number] {
  let minX = Infinity
  let minY = Infinity
  let maxX = -Infinity
  let maxY = -Infinity
  for (const ring of ringsOf(geometry))
    for (const [x, y] of ring) {
      if (x < minX) minX = x
      if (y < minY) minY = y
      if (x > maxX) maxX = x
      if (y > maxY) maxY = y
    }
  return [minX, minY, maxX, maxY]
}

export interface CoverageOptions {
  cellSizeM?: number
  radiusM?: number
}

/**
 * One grid's raster, filled incrementally as the track grows (O(cells near the new segment) per fix).
 *
 * `cellCount` = cells whose centre lies in the grid; `coveredCount` = those within `radiusM` of the track.
 */
export class GridCoverage {
  readonly cellSizeM: number
  readonly radiusM: number
  readonly cellCount: number
  coveredCount = 0
  private readonly lon0: number
  private readonly lat0: number
  private readonly kx: number
  private readonly ky = M_PER_DEG
  private readonly x0: number
  private readonly y0: number
  private readonly nx: number
  private readonly ny: number
  private readonly inside: Uint8Array
  private readonly covered: Uint8Array

  constructor(geometry: PolygonalGeometry, options: CoverageOptions = {}) {
    this.cellSizeM = options.cellSizeM ?? DEFAULT_CELL_SIZE_M
    this.radiusM = options.radiusM ?? DEFAULT_RADIUS_M
    const [minLon, minLat, maxLon, maxLat] = boundsOf(geometry)
    const empty = !Number.isFinite(minLon)
    this.lon0 = empty ? 0 : (minLon + maxLon) / 2
    this.lat0 = empty ? 0 : (minLat + maxLat) / 2
    this.kx = M_PER_DEG * Math.cos((this.lat0 * Math.PI) / 180)
    const rings = empty ? [] : ringsOf(geometry).map((ring) => ring.map(([lon, lat]) => this.toM(lon, lat)))
    const cs = this.cellSizeM
    const [x0, y0] = empty ? [0, 0] : this.toM(minLon, minLat)
    const [x1, y1] = empty ? [0, 0] : this.toM(maxLon, maxLat)
    this.x0 = Math.floor(x0 / cs) * cs
    this.y0 = Math.floor(y0 / cs) * cs
    this.nx = empty ? 0 : Math.max(1, Math.ceil((x1 - this.x0) / cs))
    this.ny = empty ? 0 : Math.max(1, Math.ceil((y1 - this.y0) / cs))
    this.inside = new Uint8Array(this.nx * this.ny)
    this.covered = new Uint8Array(this.nx * this.ny)
    this.cellCount = this.fillInside(rings)
  }

  get ratio(): number {
    return this.cellCount > 0 ? this.coveredCount / this.cellCount : 0
  }

  get coveredM2(): number {
    return this.coveredCount * this.cellSizeM * this.cellSizeM
  }

  /** Add a whole track, one array of lon/lat per unbroken part. */
  addParts(parts: readonly (readonly LonLat[])[]): void {
    for (const part of parts) {
      if (part.length === 1) this.addPoint(part[0])
      for (let i = 1; i < part.length; i++) this.addSegment(part[i - 1], part[i])
    }
  }

  /** A lone fix (a part of one point) covers a disk around it. */
  addPoint(p: LonLat): void {
    this.addSegment(p, p)
  }

  /** The cells within radius of the segment a–b (both ends in the same part). */
  addSegment(a: LonLat, b: LonLat): void {
    if (this.cellCount === 0) return
    const [ax, ay] = this.toM(a[0], a[1])
    const [bx, by] = this.toM(b[0], b[1])
    const r = this.radiusM
    const cs = this.cellSizeM
    // Cells whose centre can be within r: centre = x0 + (col + 0.5) * cs.
    const col0 = Math.max(0, Math.ceil((Math.min(ax, bx) - r - this.x0) / cs - 0.5))
    const col1 = Math.min(this.nx - 1, Math.floor((Math.max(ax, bx) + r - this.x0) / cs - 0.5))
    const row0 = Math.max(0, Math.ceil((Math.min(ay, by) - r - this.y0) / cs - 0.5))
    const row1 = Math.min(this.ny - 1, Math.floor((Math.max(ay, by) + r - this.y0) / cs - 0.5))
    if (col0 > col1 || row0 > row1) return
    const dx = bx - ax
    const dy = by - ay
    const len2 = dx * dx + dy * dy
    const r2 = r * r
    for (let row = row0; row <= row1; row++) {
      const cy = this.y0 + (row + 0.5) * cs
      for (let col = col0; col <= col1; col++) {
        const k = row * this.nx + col
        if (!this.inside[k] || this.covered[k]) continue
        const cx = this.x0 + (col + 0.5) * cs
        let px = ax
        let py = ay
        if (len2 > 0) {
          const s = Math.max(0, Math.min(1, ((cx - ax) * dx + (cy - ay) * dy) / len2))
          px = ax + s * dx
          py = ay + s * dy
        }
        const ex = cx - px
        const ey = cy - py
        if (ex * ex + ey * ey <= r2) {
          this.covered[k] = 1
          this.coveredCount++
        }
      }
    }
  }

  /** Local metres of a lon/lat around the grid's centre. */
  toM(lon: number, lat: number): [number, number] {
    return [(lon - this.lon0) * this.kx, (lat - this.lat0) * this.ky]
  }

  /** Inverse of toM (tests build shapes in metres). */
  toLonLat(x: number, y: number): [number, number] {
    return [this.lon0 + x / this.kx, this.lat0 + y / this.ky]
  }

  // Scanline fill: per row of cell centres, the crossings of every edge, filled pairwise (even-odd).
  private fillInside(rings: [number, number][][]): number {
    let count = 0
    const cs = this.cellSizeM
    for (let row = 0; row < this.ny; row++) {
      const cy = this.y0 + (row + 0.5) * cs
      const xs: number[] = []
      for (const ring of rings)
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i]
          const [xj, yj] = ring[j]
          if (yi > cy !== yj > cy) xs.push(((xj - xi) * (cy - yi)) / (yj - yi) + xi)
        }
      xs.sort((p, q) => p - q)
      for (let k = 0; k + 1 < xs.length; k += 2) {
        const c0 = Math.max(0, Math.ceil((xs[k] - this.x0) / cs - 0.5))
        const c1 = Math.min(this.nx - 1, Math.ceil((xs[k + 1] - this.x0) / cs - 0.5) - 1)
        for (let col = c0; col <= c1; col++) {
          const idx = row * this.nx + col
          if (!this.inside[idx]) {
            this.inside[idx] = 1
            count++
          }
        }
      }
    }
    return count
  }
}

/** One-shot coverage of a grid by a track given as parts. */
export function gridCoverage(
  geometry: PolygonalGeometry,
  parts: readonly (readonly LonLat[])[],
  options: CoverageOptions = {},
): { ratio: number; coveredM2: number; cellCount: number; coveredCount: number } {
  const raster = new GridCoverage(geometry, options)
  raster.addParts(parts)
  return { ratio: raster.ratio, coveredM2: raster.coveredM2, cellCount: raster.cellCount, coveredCount: raster.coveredCount }
}
