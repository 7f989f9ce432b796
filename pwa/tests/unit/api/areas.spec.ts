import { afterEach, describe, expect, it, vi } from 'vitest'
import { MockServer, square } from '../mockServer'
import { loadApp, uniqueDbName } from '../appHarness'

afterEach(() => vi.unstubAllGlobals())

describe('listAllAreas', () => {
  it('follows X-Pagination until the last page', async () => {
    const server = new MockServer()
    server.areas[11] = Array.from({ length: 5 }, (_, i) => square(300 + i, 'grid', 115.5 + i * 0.01, 38.1))
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    const { listAllAreas } = await import('@/api/areas')
    server.calls = []
    const all = await listAllAreas({ kind: 'grid' }, 2)
    expect(all.map((f) => f.id)).toEqual([300, 301, 302, 303, 304])
    expect(server.calls.map((c) => new URL(c.path, 'http://x').searchParams.get('page'))).toEqual(['1', '2', '3'])
  })

  it('turns the error shape into ApiError with the server message, and a network failure into OfflineError', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await expect(app.login('officer1', 'nope')).rejects.toMatchObject({
      name: 'ApiError', status: 401, code: 'invalid_credentials', message: '用户名或密码错误',
    })
    server.offline = true
    await expect(app.login('officer1', 'gridpatrol-demo')).rejects.toBeInstanceOf(app.http.OfflineError)
    expect(app.online.value).toBe(false)
  })
})
