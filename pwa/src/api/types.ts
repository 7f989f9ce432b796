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
}
