// Shapes of the server's JSON (see the API contract); WGS-84 lon/lat everywhere.
export type Role = 'officer' | 'squad_leader' | 'supervisor' | 'commander' | 'department' | 'admin'
export type AreaKind = 'county' | 'town' | 'zone' | 'grid' | 'village'

export interface Named {
  id: number
  name: string
}

export interface User {
  id: number
  username: string
  display_name: string
  phone: string | null
  roles: Role[]
  squad: Named | null
  village: Named | null
  department: Named | null
  certificate_no: string | null
  certificate_expires_on: string | null
  active: boolean
}

export interface TokenResponse {
  access_token: string
  refresh_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_expires_in: number
  user: User
}

export interface MeResponse {
  user: User
  area_ids: number[]
  area_counts: Partial<Record<AreaKind, number>>
}

export interface AreaProperties {
  kind: AreaKind
  name: string
  code: string | null
  parent_id: number | null
  area_m2: number | null
}

export interface Geometry {
  type: 'MultiPolygon' | 'Polygon'
  coordinates: number[][][][] | number[][][]
}

export interface AreaFeature {
  type: 'Feature'
  id: number
  geometry: Geometry | null
  properties: AreaProperties
}

export interface AreaCollection {
  type: 'FeatureCollection'
  features: AreaFeature[]
}

export interface Pagination {
  total: number
  total_pages: number
  first_page: number
  last_page: number
  page: number
  next_page?: number
  previous_page?: number
}

export interface BasemapConfig {
  url_template: string
  attribution: string
  subdomains: string
  crs: 'wgs84' | 'gcj02'
  max_zoom: number
}

export interface ServerConfig {
  basemap: BasemapConfig | null
  tianditu_key: string | null
  version: string
  /** when the phone sends a photo's original after its display copy (ORIGINAL_UPLOAD; older servers: absent) */
  original_upload?: 'always' | 'wifi' | 'never'
  /** a check-in farther than this from the business is flagged (INSPECTION_CHECKIN_MAX_M; older servers: absent) */
  inspection_checkin_max_m?: number
}

// Patrols (issue 3): instants are ISO 8601 UTC strings. Tasks (排班) are typed in api/tasks.ts.
export interface ApiFix {
  t: string
  lon: number
  lat: number
  accuracy_m: number
  speed_mps?: number | null
  heading_deg?: number | null
  altitude_m?: number | null
  is_mock?: boolean
}

export interface PatrolStartBody {
  client_id: string
  started_at: string
  task_id?: number
  grid_ids?: number[]
}

export interface PointsBatchBody {
  batch_id: string
  points: ApiFix[]
}

export interface PatrolGap {
  start_at: string
  end_at: string
  duration_s: number
  distance_m: number
  reason: string
}

export interface Patrol {
  id: number
  client_id: string
  officer_id: number
  squad_id: number | null
  task_id?: number | null
  started_at: string
  ended_at: string | null
  /** null while running; why it ended (the server ends a patrol by itself when idle or at the shift end) */
  end_reason?: PatrolEndReason | null
  /** the last fix the server received */
  last_seen_at?: string | null
  shift_ends_at?: string | null
  grid_ids: number[]
  raw_count: number
  point_count: number
  distance_m: number
  duration_s: number
  moving_time_s: number
  dropped: Record<string, number>
  gaps: PatrolGap[]
  flags: Record<string, number>
}

export type PatrolEndReason = 'user' | 'idle' | 'shift_end' | 'superseded' | 'import'

export interface BatchAnswer {
  batch_id: string
  received: number
  accepted: number
  dropped: Record<string, number>
  point_count: number
  /** set once the patrol has ended (possibly by the server itself): later fixes are dropped as off_duty */
  ended_at?: string | null
  end_reason?: PatrolEndReason | null
}

export interface GridCoverageItem {
  grid_id: number
  covered_ratio: number
  covered_m2: number
}
