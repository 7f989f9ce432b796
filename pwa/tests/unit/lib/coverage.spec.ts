import { describe, expect, it } from 'vitest'
import { GridCoverage, gridCoverage, pointInGeometry, type LonLat, type PolygonalGeometry } from '@/lib/coverage'

// A 1 km square grid near the demo town, built in the module's own local metres so its edges are exact.
const probe = new GridCoverage({
  type: 'Polygon',
  coordinates: [[[115.55, 38.1], [115.56, 38.1], [115.56, 38.11], [115.55, 38.1]]],
})
const centre = probe.toLonLat(0, 0)

function squareAround([lon, lat]: readonly [number, number], halfM: number): PolygonalGeometry {
  const g = new GridCoverage({ type: 'Polygon', coordinates: [[[lon - 0.1, lat - 0.1], [lon + 0.1, lat + 0.1], [lon - 0.1, lat - 0.1]]] })
  const c = (x: number, y: number) => g.toLonLat(x, y)
  return {
    type: 'MultiPolygon',
    coordinates: [[[c(-halfM, -halfM), c(halfM, -halfM), c(halfM, halfM), c(-halfM, halfM), c(-halfM, -halfM)]]],
  }
}

const grid = squareAround(centre, 500)
const local = new GridCoverage(grid)
const at = (x: number, y: number): LonLat => local.toLonLat(x, y)

describe('gridCoverage', () => {
  it('counts the 10 m cells of a 1 km square: 100 x 100', () => {
    const r = gridCoverage(grid, [])
    expect(r.cellCount).toBe(10_000)
    expect(r.ratio).toBe(0)
  })

  it('a straight 1 km line through the middle covers the 6 columns whose centres are within 30 m: 6%', () => {
    const r = gridCoverage(grid, [[at(0, -500), at(0, 500)]])
    // centres at x = ±5, ±15, ±25 m are within 30 m; ±35 m are not
    expect(r.coveredCount).toBe(600)
    expect(r.ratio).toBeCloseTo(0.06, 10)
    expect(r.coveredM2).toBe(60_000)
  })

  it('the same line cut into many fixes covers the same cells', () => {
    const fixes: LonLat[] = []
    for (let y = -500; y <= 500; y += 7.3) fixes.push(at(0, y))
    fixes.push(at(0, 500))
    expect(gridCoverage(grid, [fixes]).coveredCount).toBe(600)
  })

  it('a gap covers nothing: two parts on either side of the grid, the jump between them not counted', () => {
    const south = [at(0, -700), at(0, -600)]
    const north = [at(0, 600), at(0, 700)]
    expect(gridCoverage(grid, [south, north]).coveredCount).toBe(0)
    // drawn as one line, the same fixes would cross the grid
    expect(gridCoverage(grid, [[...south, ...north]]).coveredCount).toBe(600)
  })

  it('a lone fix covers a disk of radius 30 m (32 cell centres for a fix on a cell corner)', () => {
    const r = gridCoverage(grid, [[at(0, 0)]])
    // per quadrant the centres (5|15|25, 5|15|25) within 30 m: all but (25, 25) at 35.4 m; (25, 15) is 29.2 m
    expect(r.coveredCount).toBe(4 * 8)
  })

  it('a track along the outside edge covers the inner 30 m strip only', () => {
    const r = gridCoverage(grid, [[at(-500, -500), at(-500, 500)]])
    expect(r.coveredCount).toBe(300) // columns at x = -495, -485, -475
  })

  it('holes are not part of the grid', () => {
    const c = (x: number, y: number) => local.toLonLat(x, y)
    const withHole: PolygonalGeometry = {
      type: 'Polygon',
      coordinates: [
        (grid.coordinates as number[][][][])[0][0],
        [c(-100, -100), c(100, -100), c(100, 100), c(-100, 100), c(-100, -100)],
      ],
    }
    expect(gridCoverage(withHole, []).cellCount).toBe(10_000 - 400)
    expect(pointInGeometry(at(0, 0), withHole)).toBe(false)
    expect(pointInGeometry(at(300, 0), withHole)).toBe(true)
    expect(pointInGeometry(at(600, 0), withHole)).toBe(false)
  })

  it('grows incrementally and never counts a cell twice', () => {
    const g = new GridCoverage(grid)
    g.addSegment(at(0, -500), at(0, 0))
    g.addSegment(at(0, 0), at(0, 500))
    g.addSegment(at(0, -500), at(0, 500))
    expect(g.coveredCount).toBe(600)
  })
})
