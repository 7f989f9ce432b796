// Test-only stand-in for the patrol endpoints of the API, on top of MockServer (login, me, areas).
// It keeps the contract's promises: exactly-once on client_id and batch_id, 409 for another body under a
// used batch_id, fixes off duty not stored; and it can lose answers after storing, like a dropped connection.
// With `oneRunning` it is the server of issue 9: one running patrol per officer (409 patrol_running with the
// running one), patrols it ends by itself (`endByServer`: idle, shift end), end_reason and last_seen_at.
import { MockServer } from '../mockServer'

interface StoredPatrol {
  id: number
  client_id: string
  officer_id: number
  started_at: string
  ended_at: string | null
  end_reason: string | null
  last_seen_at: string | null
  task_id: number | null
  grid_ids: number[]
  points: { t: string; lon: number; lat: number }[]
  batches: Map<string, { body: string; answer: unknown }>
}

export class PatrolServer extends MockServer {
  // Fields initialise after MockServer's constructor: this is still MockServer's own fetch (login, me, areas).
  private readonly baseFetch: MockServer['fetch'] = this.fetch
  patrols: StoredPatrol[] = []
  /** answers to lose: the request is processed, then the client sees a network error */
  loseAnswers = 0
  /** paths (regex) answered with this status instead */
  failWith: { path: RegExp; status: number; code: string; details?: Record<string, unknown>; times: number } | null = null
  coverage: { grid_id: number; covered_ratio: number; covered_m2: number }[] = []
  coverageAvailable = true
  tasks: unknown[] | null = null
  unknownGrids: number[] = []
  oneRunning = false
  /** POST /tasks, by client_id (idempotent like the real server) */
  createdTasks = new Map<string, Record<string, unknown>>()

  /** The server ends a patrol by itself (no fixes for a while, or the shift is over). */
  endByServer(id: number, reason: 'idle' | 'shift_end', at: string) {
    const p = this.patrols.find((x) => x.id === id)!
    p.ended_at ??= at
    p.end_reason ??= reason
  }

  /** A patrol started elsewhere (another phone): on the server only. */
  startElsewhere(officerId: number, clientId: string, startedAt: string): StoredPatrol {
    const p: StoredPatrol = {
      id: this.patrols.length + 1, client_id: clientId, officer_id: officerId, started_at: startedAt, ended_at: null,
      end_reason: null, last_seen_at: null, task_id: null, grid_ids: [101], points: [], batches: new Map(),
    }
    this.patrols.push(p)
    return p
  }

  private answer(status: number, body: unknown) {
    return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
  }

  private lose(response: Response): Response {
    if (this.loseAnswers > 0) {
      this.loseAnswers--
      throw new TypeError('Failed to fetch (answer lost)')
    }
    return response
  }

  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input), 'http://app.test')
    const path = url.pathname
    if (!path.startsWith('/api/v1/patrols') && path !== '/api/v1/me/tasks' && path !== '/api/v1/tasks') return this.baseFetch(input, init)
    const headers = (init.headers ?? {}) as Record<string, string>
    const body = init.body ? JSON.parse(String(init.body)) : null
    const method = init.method ?? 'GET'
    this.calls.push({ method, path: path + url.search, headers, body })
    if (this.offline) throw new TypeError('Failed to fetch')
    const uid = this.access.get(headers.Authorization?.replace(/^Bearer /, '') ?? '')
    if (uid === undefined) return this.answer(401, { code: 'unauthorized', message: '未登录', details: {} })
    const f = this.failWith
    if (f && f.times > 0 && f.path.test(path)) {
      f.times--
      return this.answer(f.status, { code: f.code, message: `refused ${f.code}`, details: f.details ?? {} })
    }

    if (path === '/api/v1/tasks' && method === 'POST') {
      const known = this.createdTasks.get(body.client_id)
      if (known) return this.lose(this.answer(200, known))
      const task = { id: this.createdTasks.size + 1, ...body, officer_name: null, squad_id: 1, progress: null }
      this.createdTasks.set(body.client_id, task)
      return this.lose(this.answer(201, task))
    }
    if (path === '/api/v1/me/tasks') {
      if (this.tasks === null) return this.answer(404, { code: 'not_found', message: 'not found', details: {} })
      return this.answer(200, { items: this.tasks })
    }
    if (path === '/api/v1/patrols' && method === 'GET') {
      const active = url.searchParams.get('active')
      const officer = url.searchParams.get('officer')
      const rows = this.patrols.filter(
        (p) => p.officer_id === uid && (officer === null || String(p.officer_id) === officer) &&
          (active === null || (active === 'true') === (p.ended_at === null)),
      )
      return this.answer(200, rows.map((p) => this.view(p)))
    }
    if (path === '/api/v1/patrols' && method === 'POST') {
      const hidden = (body.grid_ids ?? []).filter((g: number) => this.unknownGrids.includes(g))
      if (hidden.length)
        return this.answer(400, { code: 'validation_error', message: 'bad grids', details: { fields: { grid_ids: { unknown: hidden } } } })
      const existing = this.patrols.find((p) => p.client_id === body.client_id)
      if (existing) return this.lose(this.answer(200, this.view(existing)))
      const running = this.patrols.find((p) => p.officer_id === uid && p.ended_at === null)
      if (this.oneRunning && running)
        return this.answer(409, { code: 'patrol_running', message: '您已有一次进行中的巡查', details: { patrol: this.view(running) } })
      const p: StoredPatrol = {
        id: this.patrols.length + 1, client_id: body.client_id, officer_id: uid, started_at: body.started_at,
        ended_at: null, end_reason: null, last_seen_at: null, task_id: body.task_id ?? null, grid_ids: body.grid_ids ?? [],
        points: [], batches: new Map(),
      }
      this.patrols.push(p)
      return this.lose(this.answer(201, this.view(p)))
    }
    const m = /^\/api\/v1\/patrols\/(\d+)(\/points|\/end|\/coverage)?$/.exec(path)
    const p = m ? this.patrols.find((x) => x.id === Number(m[1])) : undefined
    if (!m || !p) return this.answer(404, { code: 'not_found', message: 'not found', details: {} })
    if (m[2] === '/points') {
      const canonical = JSON.stringify(body.points)
      const seen = p.batches.get(body.batch_id)
      if (seen) {
        if (seen.body !== canonical) return this.answer(409, { code: 'duplicate', message: 'duplicate', details: {} })
        return this.lose(this.answer(200, seen.answer))
      }
      const start = Date.parse(p.started_at) - 60_000
      const end = p.ended_at ? Date.parse(p.ended_at) + 60_000 : Infinity
      const onDuty = body.points.filter((x: { t: string }) => Date.parse(x.t) >= start && Date.parse(x.t) <= end)
      p.points.push(...onDuty)
      if (onDuty.length) p.last_seen_at = onDuty[onDuty.length - 1].t
      const answer = {
        batch_id: body.batch_id, received: body.points.length, accepted: onDuty.length,
        dropped: onDuty.length < body.points.length ? { off_duty: body.points.length - onDuty.length } : {},
        point_count: p.points.length, ended_at: p.ended_at, end_reason: p.end_reason,
      }
      p.batches.set(body.batch_id, { body: canonical, answer })
      return this.lose(this.answer(200, answer))
    }
    if (m[2] === '/end') {
      if (p.ended_at === null) {
        p.ended_at = body.ended_at
        p.end_reason = 'user'
      }
      return this.lose(this.answer(200, this.view(p)))
    }
    if (m[2] === '/coverage') {
      if (!this.coverageAvailable) return this.answer(404, { code: 'not_found', message: 'not found', details: {} })
      return this.answer(200, { items: this.coverage })
    }
    return this.answer(200, this.view(p))
  }

  view(p: StoredPatrol) {
    return {
      id: p.id, client_id: p.client_id, officer_id: p.officer_id, squad_id: 1, task_id: p.task_id,
      started_at: p.started_at, ended_at: p.ended_at, end_reason: p.end_reason, last_seen_at: p.last_seen_at,
      shift_ends_at: null, grid_ids: p.grid_ids,
      raw_count: p.points.length, point_count: p.points.length, distance_m: 0, duration_s: 0, moving_time_s: 0,
      dropped: {}, gaps: [], flags: {},
    }
  }
}
