// The last coverage a leader fetched, kept per user in kv (`coverageSnapshot:<userId>`): offline, the coverage page
// shows it with the time it was fetched and says it is stale.
import type { CoverageFilter, CoverageResponse, OfficerPosition, UnvisitedGrid } from '@/api/coverage'
import type { Result } from '@/data/db'
import { getKv, setKv } from '@/data/kv'

export interface OfficerRef {
  id: number
  name: string
}

export interface CoverageSnapshot {
  filter: CoverageFilter
  fetchedAt: number
  coverage: CoverageResponse
  positions: OfficerPosition[]
  /** null when the "not visited for N days" view was off */
  unvisited: { days: number; items: UnvisitedGrid[] } | null
  officers: OfficerRef[]
}

const key = (userId: number) => `coverageSnapshot:${userId}`

export function loadSnapshot(userId: number): Promise<Result<CoverageSnapshot | undefined>> {
  return getKv<CoverageSnapshot>(key(userId))
}

export function saveSnapshot(userId: number, snapshot: CoverageSnapshot): Promise<Result<void>> {
  return setKv(key(userId), JSON.parse(JSON.stringify(snapshot)))
}
