// The case map's rules without Leaflet: the colour of a case by where it stands, the filters as a query, and the
// boxes (WGS-84 degrees) that decide when the map must ask the server again.
import type { CaseMapFeature, CaseMapQuery } from '@/api/cases'
import type { Bbox } from '@/lib/tiles'

/**
 * Statuses in five groups a leader acts on, each one colour: eleven colours could not be told apart on a phone in
 * the sun. Overdue is not a group but drawn over any of them (red, with a ring), because it is what to act on first.
 */
export const STATUS_GROUPS = [
  { key: 'new', color: '#f59e0b', statuses: ['reported'] },
  { key: 'working', color: '#2563eb', statuses: ['accepted', 'dispatched', 'whistled', 'acknowledged'] },
  { key: 'checking', color: '#7c3aed', statuses: ['handled', 'verified'] },
  { key: 'parked', color: '#6b7280', statuses: ['parked'] },
  { key: 'ended', color: '#16a34a', statuses: ['closed', 'rejected', 'merged'] },
] as const

export type StatusGroup = (typeof STATUS_GROUPS)[number]['key']

export const OVERDUE_COLOR = '#dc2626'
/** the ring around an overdue case: its shape tells it apart even to readers who cannot tell red from amber */
export const OVERDUE_RING_COLOR = '#991b1b'

const GROUP_OF: Record<string, (typeof STATUS_GROUPS)[number]> = Object.fromEntries(
  STATUS_GROUPS.flatMap((g) => g.statuses.map((s) => [s, g])),
)

export function statusGroup(status: string): StatusGroup {
  return GROUP_OF[status]?.key ?? 'working'
}

export function statusColor(status: string): string {
  return GROUP_OF[status]?.color ?? STATUS_GROUPS[1].color
}

export const CASE_SOURCES = ['patrol', 'supervisor', 'hotline', 'inspection', 'open311'] as const

export interface CaseMapFilter {
  state: 'open' | 'closed' | 'all'
  overdueOnly: boolean
  category: string | null
  source: string | null
}

export const DEFAULT_FILTER: CaseMapFilter = { state: 'open', overdueOnly: false, category: null, source: null }

export function queryOf(f: CaseMapFilter, bbox?: Bbox): CaseMapQuery {
  return {
    open: f.state === 'all' ? undefined : f.state === 'open',
    overdue: f.overdueOnly || undefined,
    category: f.category ?? undefined,
    source: f.source ?? undefined,
    bbox,
  }
}

export function sameFilter(a: CaseMapFilter, b: CaseMapFilter): boolean {
  return a.state === b.state && a.overdueOnly === b.overdueOnly && a.category === b.category && a.source === b.source
}

/** The box grown by `share` of its size on every side (a small pan then needs no new request), clamped to the
 * degrees the server accepts. */
export function padBbox([w, s, e, n]: Bbox, share: number): Bbox {
  const dx = (e - w) * share
  const dy = (n - s) * share
  return [Math.max(-180, w - dx), Math.max(-90, s - dy), Math.min(180, e + dx), Math.min(90, n + dy)]
}

export function bboxContains(outer: Bbox, inner: Bbox): boolean {
  return outer[0] <= inner[0] && outer[1] <= inner[1] && outer[2] >= inner[2] && outer[3] >= inner[3]
}

/** How many of the cases lie in the box, and how many of those are overdue: what the count line says. */
export function countIn(features: readonly CaseMapFeature[], [w, s, e, n]: Bbox): { total: number; overdue: number } {
  let total = 0
  let overdue = 0
  for (const f of features) {
    const [lon, lat] = f.geometry.coordinates
    if (lon < w || lon > e || lat < s || lat > n) continue
    total++
    if (f.properties.overdue.length) overdue++
  }
  return { total, overdue }
}
