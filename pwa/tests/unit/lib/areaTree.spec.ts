// The area tree in both shapes: town → zone → grid and town → grid (no zones), mixed in one county.
import { describe, expect, it } from 'vitest'
import type { AreaFeature, AreaKind } from '@/api/types'
import { gridsUnder, isUnder, parentIndex, parentsOf } from '@/lib/areaTree'

function area(id: number, kind: AreaKind, parent: number | null): AreaFeature {
  return { type: 'Feature', id, geometry: null, properties: { kind, name: `${kind}-${id}`, code: null, parent_id: parent, area_m2: 1 } }
}

// town 1 has zones 10 and 11 with grids 100-102; town 2 has no zones, grids 200-201 sit under it directly
const county = [
  area(1, 'town', null), area(10, 'zone', 1), area(11, 'zone', 1),
  area(100, 'grid', 10), area(101, 'grid', 10), area(102, 'grid', 11),
  area(2, 'town', null), area(200, 'grid', 2), area(201, 'grid', 2),
  area(300, 'village', 2),
]
const ids = (list: AreaFeature[]) => list.map((f) => Number(f.id))

describe('area tree', () => {
  it('finds the grids of a squad given zones, given grids directly, or given a whole town', () => {
    expect(ids(gridsUnder(county, new Set([10])))).toEqual([100, 101])
    expect(ids(gridsUnder(county, new Set([200, 102])))).toEqual([102, 200])
    expect(ids(gridsUnder(county, new Set([2])))).toEqual([200, 201])
    expect(ids(gridsUnder(county, new Set([1])))).toEqual([100, 101, 102])
    expect(gridsUnder(county, new Set())).toEqual([])
  })

  it('names the parents to outline: zones in one shape, the town in the other', () => {
    const grids = county.filter((f) => [101, 102, 200].includes(Number(f.id)))
    expect(ids(parentsOf(grids, county))).toEqual([10, 11, 2])
  })

  it('walks up through missing parents (an area not cached) and stops on a cycle', () => {
    const parents = parentIndex([area(5, 'grid', 99), area(6, 'zone', 7), area(7, 'zone', 6)])
    expect(isUnder(5, new Set([99]), parents)).toBe(true)
    expect(isUnder(5, new Set([1]), parents)).toBe(false)
    expect(isUnder(6, new Set([1]), parents)).toBe(false)
  })
})
