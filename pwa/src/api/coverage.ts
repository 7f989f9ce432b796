// /api/v1/coverage (per grid, unvisited grids, map tiles) and the patrol reads only the leaders' map makes:
// officers' last positions, a patrol's track as GeoJSON, an officer's latest patrols (one patrol's summary is
// api/patrols.ts getPatrol). Instants are ISO 8601 UTC; dates local YYYY-MM-DD.
import { request, requestBlob, requestRaw } from './http'

export interface CoverageFilter {
  /** local dates (Asia/Shanghai), inclusive */
  from?: string
  to?: string
  area?: number
  squad?: number
  officer?: number
}

export interface GridCoverage {
  grid_id: number
  name: string
  code: string | null
  area_m2: number
  /** 0..1 */
  covered_ratio: number
  covered_m2: number
  patrols: number
  officers: number
  last_visited_at: string | null
}

export interface CoverageResponse {
  from: string
  to: string
  items: GridCoverage[]
}

export interface UnvisitedGrid {
  grid_id: number
  name: string
  code: string | null
  last_visited_at: string | null
  /** whole days; null = never visited */
  days_since: number | null
}

export interface OfficerPosition {
  officer_id: number
  officer_name: string | null
  patrol_id: number
  active: boolean
  lon: number
  lat: number
  t: string
  accuracy_m: number | null
}

export interface PatrolListItem {
  id: number
  officer_id: number
  started_at: string
  ended_at: string | null
  distance_m: number
  point_count: number
}

/** Track GeoJSON: `track` MultiLineString (never across a gap), `gap` LineStrings, `dropped` Points with a reason. */
export interface TrackFeature {
  type: 'Feature'
  geometry: { type: 'MultiLineString' | 'LineString' | 'Point'; coordinates: unknown }
  properties: { kind: 'track' | 'gap' | 'dropped' | 'flagged'; reason?: string; flags?: string[]; t?: string; [key: string]: unknown }
}

export interface TrackCollection {
  type: 'FeatureCollection'
  features: TrackFeature[]
}

function filterQuery(f: CoverageFilter) {
  return { from: f.from, to: f.to, area: f.area, squad: f.squad, officer: f.officer }
}

export function getCoverage(filter: CoverageFilter, signal?: AbortSignal): Promise<CoverageResponse> {
  return request<CoverageResponse>('GET', '/api/v1/coverage', { query: filterQuery(filter), signal })
}

export async function getUnvisited(days: number, filter: Pick<CoverageFilter, 'area' | 'squad' | 'officer'> = {}): Promise<UnvisitedGrid[]> {
  const data = await request<{ items: UnvisitedGrid[] }>('GET', '/api/v1/coverage/unvisited', {
    query: { days, area: filter.area, squad: filter.squad, officer: filter.officer },
  })
  return data?.items ?? []
}

/** One coverage map tile (covered cells green, uncovered red); crs = the basemap's datum so the cells line up. */
export function getCoverageTile(
  z: number,
  x: number,
  y: number,
  filter: CoverageFilter & { crs: 'wgs84' | 'gcj02' },
  signal?: AbortSignal,
): Promise<Blob> {
  return requestBlob(`/api/v1/coverage/tiles/${z}/${x}/${y}.png`, {
    query: { ...filterQuery(filter), crs: filter.crs },
    signal,
  })
}

export async function getPositions(squad?: number): Promise<OfficerPosition[]> {
  const data = await request<{ items: OfficerPosition[] }>('GET', '/api/v1/patrols/positions', { query: { squad } })
  return data?.items ?? []
}

export function getTrack(patrolId: number): Promise<TrackCollection> {
  return request<TrackCollection>('GET', `/api/v1/patrols/${patrolId}/track`, { query: { format: 'geojson' } })
}

/** An officer's latest patrols (first page, newest first). */
export async function listOfficerPatrols(officerId: number, pageSize = 10): Promise<PatrolListItem[]> {
  const { data } = await requestRaw<PatrolListItem[]>('GET', '/api/v1/patrols', {
    query: { officer: officerId, page: 1, page_size: pageSize },
  })
  return data ?? []
}
