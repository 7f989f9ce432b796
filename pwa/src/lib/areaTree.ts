// Walking the area tree the server sends (each area's parent_id) in either shape a town comes in:
// town → zone (片区) → grid, or town → grid where a town or street office has no zones and squads get grids.
import type { AreaFeature } from '@/api/types'

/** The tree is at most five levels deep; the guard only stops a malformed cycle. */
const MAX_DEPTH = 8

export function parentIndex(features: readonly AreaFeature[]): Map<number, number | null> {
  return new Map(features.map((f) => [Number(f.id), f.properties.parent_id]))
}

/** True when `id` or one of its ancestors is in `roots` (a squad's areas may be zones, grids or a town). */
export function isUnder(id: number, roots: ReadonlySet<number>, parents: ReadonlyMap<number, number | null>): boolean {
  let current: number | null | undefined = id
  for (let depth = 0; current !== null && current !== undefined && depth < MAX_DEPTH; depth++) {
    if (roots.has(current)) return true
    current = parents.get(current)
  }
  return false
}

/** The grids among `features` that lie under any of `roots` (themselves included). */
export function gridsUnder(features: readonly AreaFeature[], roots: ReadonlySet<number>): AreaFeature[] {
  const parents = parentIndex(features)
  return features.filter((f) => f.properties.kind === 'grid' && isUnder(Number(f.id), roots, parents))
}

/** The areas the given grids hang under directly (zones, or towns with no zones), in the order of `features`. */
export function parentsOf(grids: readonly AreaFeature[], features: readonly AreaFeature[]): AreaFeature[] {
  const wanted = new Set(grids.map((g) => g.properties.parent_id).filter((id): id is number => id !== null))
  return features.filter((f) => wanted.has(Number(f.id)))
}
