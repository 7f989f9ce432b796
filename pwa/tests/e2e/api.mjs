// The server's API for the browser tests' own set-up (sign in, patrol a grid, import areas), outside the page.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { BASE_URL, PASSWORD } from './helpers.mjs'

export async function api(method, path, token, body) {
  const multipart = body instanceof FormData
  const response = await fetch(`${BASE_URL}/api/v1${path}`, {
    method,
    headers: {
      ...(body === undefined || multipart ? {} : { 'Content-Type': 'application/json' }),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : multipart ? body : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return text ? JSON.parse(text) : null
}

export async function apiLogin(username, password = PASSWORD) {
  return api('POST', '/auth/login', null, { username, password })
}

export function ringBbox(geometry) {
  const ring = geometry.type === 'MultiPolygon' ? geometry.coordinates[0][0] : geometry.coordinates[0]
  const lons = ring.map((p) => p[0])
  const lats = ring.map((p) => p[1])
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)]
}

const WALK_MS = 25 * 60_000

/**
 * Why a test that walks with patrolOneGrid cannot run now, or null: in the first 26 minutes after midnight in
 * Shanghai the walk would be split over two days, and "today's" coverage would hold only its last minutes.
 */
export function walkSplitByMidnight(now = Date.now()) {
  const shanghai = new Date(now + 8 * 3_600_000) // Asia/Shanghai has no daylight saving time
  const sinceMidnightMs = ((shanghai.getUTCHours() * 60 + shanghai.getUTCMinutes()) * 60 + shanghai.getUTCSeconds()) * 1000
  return sinceMidnightMs < WALK_MS + 60_000
    ? 'the 25-minute walk would span midnight in Shanghai (two coverage days): run again after 00:26 Asia/Shanghai'
    : null
}

/**
 * An officer walks a lawnmower over one of their grids in the last ~25 minutes: 8 rows, a fix every 4 s, a 5-minute
 * pause with no fixes after row 4 (a gap), one fix 300 m inaccurate (dropped) and one from a mock-location app.
 * Tests skip themselves, with the reason, when walkSplitByMidnight() says the walk would span two days.
 */
export async function patrolOneGrid(token, grid) {
  const [w, s, e, n] = ringBbox(grid.geometry)
  const startMs = Date.now() - WALK_MS
  const patrol = await api('POST', '/patrols', token, { client_id: randomUUID(), started_at: new Date(startMs).toISOString() })
  const points = []
  let t = startMs + 10_000
  for (let row = 0; row < 8; row++) {
    if (row === 4) t += 300_000
    const lat = s + ((n - s) * (row + 0.5)) / 8
    for (let k = 0; k <= 30; k++) {
      const lon = w + ((e - w) * (row % 2 ? 30 - k : k)) / 30
      points.push({ t: new Date(t).toISOString(), lon, lat, accuracy_m: 5 })
      t += 4_000
    }
  }
  points[40].accuracy_m = 300
  points[60].is_mock = true
  assert.ok(t < Date.now(), 'no fix in the future')
  const answer = await api('POST', `/patrols/${patrol.id}/points`, token, { batch_id: randomUUID(), points })
  assert.equal(answer.received, points.length)
  return patrol
}
