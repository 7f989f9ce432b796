// A tiny in-memory stand-in for the Flask API, used only by unit tests (never shipped in the app).
import type { AreaFeature, TokenResponse, User } from '@/api/types'

export interface MockCall {
  method: string
  path: string
  headers: Record<string, string>
  body: unknown
}

function user(id: number, username: string, roles: User['roles']): User {
  return {
    id,
    username,
    display_name: `${username} 显示名`,
    phone: null,
    roles,
    squad: roles.includes('officer') ? { id: 1, name: '第一中队' } : null,
    village: null,
    department: null,
    certificate_no: roles.includes('officer') ? 'ZF-001' : null,
    certificate_expires_on: roles.includes('officer') ? '2030-12-31' : null,
    active: true,
  }
}

export function square(id: number, kind: AreaFeature['properties']['kind'], lon: number, lat: number): AreaFeature {
  const d = 0.01
  return {
    type: 'Feature',
    id,
    geometry: {
      type: 'MultiPolygon',
      coordinates: [[[[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]]],
    },
    properties: { kind, name: `${kind}-${id}`, code: `C${id}`, parent_id: null, area_m2: 1_000_000 },
  }
}

export class MockServer {
  users: Record<string, User> = {
    officer1: user(11, 'officer1', ['officer']),
    leader1: user(12, 'leader1', ['squad_leader', 'officer']),
  }
  password = 'gridpatrol-demo'
  areas: Record<number, AreaFeature[]> = {
    11: [square(101, 'grid', 115.5, 38.1), square(102, 'grid', 115.51, 38.1)],
    12: [square(101, 'grid', 115.5, 38.1), square(102, 'grid', 115.51, 38.1), square(201, 'zone', 115.5, 38.1)],
  }
  /** token -> user id */
  access = new Map<string, number>()
  refresh = new Map<string, number>()
  calls: MockCall[] = []
  offline = false
  expiresIn = 900
  /** Make every refresh fail with 401 (refresh token expired/revoked). */
  rejectRefresh = false
  private seq = 0

  private issue(u: User): TokenResponse {
    const n = ++this.seq
    const access = `access-${u.id}-${n}`
    const refresh = `refresh-${u.id}-${n}`
    this.access.set(access, u.id)
    this.refresh.set(refresh, u.id)
    return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: this.expiresIn, refresh_expires_in: 86400, user: u }
  }

  /** Revoke every access token (as if they had expired). */
  expireAccessTokens() {
    this.access.clear()
  }

  private json(status: number, body: unknown, headers: Record<string, string> = {}) {
    return new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: { 'Content-Type': 'application/json', ...headers },
    })
  }

  private error(status: number, code: string, lang: string) {
    const zh: Record<string, string> = {
      invalid_credentials: '用户名或密码错误',
      invalid_refresh_token: '登录已过期',
      unauthorized: '未登录',
    }
    return this.json(status, { code, message: lang === 'en' ? `en:${code}` : zh[code] ?? code, details: {} })
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'http://app.test')
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>))
    const body = init.body ? JSON.parse(String(init.body)) : null
    const method = init.method ?? 'GET'
    this.calls.push({ method, path: url.pathname + url.search, headers, body })
    if (this.offline) throw new TypeError('Failed to fetch')
    const lang = headers['Accept-Language'] ?? 'zh-CN'
    const path = url.pathname

    if (path === '/api/v1/config') return this.json(200, { basemap: null, tianditu_key: null, version: '0.1.0' })
    if (path === '/api/v1/auth/login') {
      const u = this.users[body?.username]
      if (!u || body.password !== this.password) return this.error(401, 'invalid_credentials', lang)
      return this.json(200, this.issue(u))
    }
    if (path === '/api/v1/auth/refresh') {
      const uid = this.refresh.get(body?.refresh_token)
      if (uid === undefined || this.rejectRefresh) return this.error(401, 'invalid_refresh_token', lang)
      this.refresh.delete(body.refresh_token) // rotation: the old one is revoked
      const u = Object.values(this.users).find((x) => x.id === uid)!
      return this.json(200, this.issue(u))
    }
    if (path === '/api/v1/auth/logout') {
      this.refresh.delete(body?.refresh_token)
      return new Response(null, { status: 204 })
    }
    const auth = headers.Authorization?.replace(/^Bearer /, '')
    const uid = auth ? this.access.get(auth) : undefined
    if (uid === undefined) return this.error(401, 'unauthorized', lang)
    const u = Object.values(this.users).find((x) => x.id === uid)!
    if (path === '/api/v1/me') {
      const list = this.areas[uid] ?? []
      const counts: Record<string, number> = {}
      for (const f of list) counts[f.properties.kind] = (counts[f.properties.kind] ?? 0) + 1
      return this.json(200, { user: u, area_ids: list.map((f) => f.id), area_counts: counts })
    }
    if (path === '/api/v1/areas') {
      const kind = url.searchParams.get('kind')
      const page = Number(url.searchParams.get('page') ?? 1)
      const size = Number(url.searchParams.get('page_size') ?? 10)
      const all = (this.areas[uid] ?? []).filter((f) => !kind || f.properties.kind === kind)
      const totalPages = Math.max(1, Math.ceil(all.length / size))
      const pagination: Record<string, number> = {
        total: all.length, total_pages: totalPages, first_page: 1, last_page: totalPages, page,
      }
      if (page < totalPages) pagination.next_page = page + 1
      if (page > 1) pagination.previous_page = page - 1
      return this.json(
        200,
        { type: 'FeatureCollection', features: all.slice((page - 1) * size, page * size) },
        { 'X-Pagination': JSON.stringify(pagination) },
      )
    }
    return this.json(404, { code: 'not_found', message: 'not found', details: {} })
  }
}
