import { afterEach, describe, expect, it, vi } from 'vitest'
import { MockServer } from '../mockServer'
import { loadApp, uniqueDbName } from '../appHarness'

afterEach(() => vi.unstubAllGlobals())

const PASSWORD = 'gridpatrol-demo'
const paths = (s: MockServer) => s.calls.map((c) => `${c.method} ${c.path.split('?')[0]}`)

describe('token refresh', () => {
  it('refreshes on 401, retries, and stores the rotated refresh token', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', PASSWORD)
    await app.sync()
    const before = (await app.sessionData.loadSession(11)) as { ok: true; value: { refreshToken: string } }
    server.expireAccessTokens()
    server.calls = []

    const me = await app.me.getMe()

    expect(me.user.username).toBe('officer1')
    expect(paths(server)).toEqual(['GET /api/v1/me', 'POST /api/v1/auth/refresh', 'GET /api/v1/me'])
    const after = await app.sessionData.loadSession(11)
    expect(after.ok && after.value?.refreshToken).not.toBe(before.value.refreshToken)
    expect(server.refresh.has(before.value.refreshToken)).toBe(false) // rotated: old one revoked
    expect(server.refresh.has((after as { ok: true; value: { refreshToken: string } }).value.refreshToken)).toBe(true)
  })

  it('refreshes before a request when the access token is about to expire', async () => {
    const server = new MockServer()
    server.expiresIn = 30 // below the refresh margin
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', PASSWORD)
    await app.sync()
    server.calls = []
    await app.me.getMe()
    expect(paths(server)).toEqual(['POST /api/v1/auth/refresh', 'GET /api/v1/me'])
  })

  it('sends one refresh for many parallel 401s (the refresh token rotates)', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', PASSWORD)
    await app.sync()
    server.expireAccessTokens()
    server.calls = []
    await Promise.all([app.me.getMe(), app.me.getMe(), app.me.getMe()])
    expect(paths(server).filter((p) => p.endsWith('/auth/refresh'))).toHaveLength(1)
  })

  it('being offline never logs out or drops local data, and a reload offline restores the user', async () => {
    const server = new MockServer()
    const name = uniqueDbName()
    let app = await loadApp(server, name)
    await app.login('officer1', PASSWORD)
    await app.sync()
    server.expiresIn = 1
    server.offline = true

    await expect(app.me.getMe()).rejects.toBeInstanceOf(app.http.OfflineError)
    expect(await app.sync()).toBe(false)
    expect(app.online.value).toBe(false)
    expect(app.session.userId).toBe(11)
    expect(app.session.needsPassword).toBe(false)

    app = await loadApp(server, name) // reload with no network
    expect(app.session.userId).toBe(11)
    expect(app.session.user?.display_name).toBe('officer1 显示名')
    expect(app.session.needsPassword).toBe(false)
    expect(app.session.lastSyncedAt).toBeGreaterThan(0)
    expect(app.areas.value.map((f) => f.id).sort()).toEqual([101, 102])
  })

  it('a rejected refresh token asks for the password and keeps the user and the data', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', PASSWORD)
    await app.sync()
    await app.outbox.enqueue({ userId: 11, kind: 'report', payload: { text: '路边堆放垃圾' } })
    server.expireAccessTokens()
    server.rejectRefresh = true

    await expect(app.me.getMe()).rejects.toBeInstanceOf(app.http.AuthExpiredError)
    expect(app.session.needsPassword).toBe(true)
    expect(app.session.userId).toBe(11)
    expect(app.areas.value).toHaveLength(2)
    const pending = await app.outbox.pendingCount(11)
    expect(pending).toEqual({ ok: true, value: 1 })

    server.rejectRefresh = false
    await app.relogin(PASSWORD)
    expect(app.session.needsPassword).toBe(false)
    expect(await app.outbox.pendingCount(11)).toEqual({ ok: true, value: 1 })
    expect((await app.me.getMe()).user.id).toBe(11)
  })
})
