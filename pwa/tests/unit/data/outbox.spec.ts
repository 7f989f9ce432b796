import { afterEach, describe, expect, it, vi } from 'vitest'
import { MockServer } from '../mockServer'
import { loadApp, uniqueDbName } from '../appHarness'

afterEach(() => vi.unstubAllGlobals())

describe('per-user data', () => {
  it('keeps every user’s outbox when logging out and in as someone else', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    await app.outbox.enqueue({ userId: 11, kind: 'report', payload: 1 })
    await app.outbox.enqueue({ userId: 11, kind: 'report', payload: 2 })
    await app.refreshPending()
    expect(app.session.pending).toBe(2)

    await app.logout()
    expect(app.session.userId).toBeNull()
    await app.login('leader1', 'gridpatrol-demo')
    await app.outbox.enqueue({ userId: 12, kind: 'report', payload: 3 })
    await app.refreshPending()

    expect(app.session.pending).toBe(1)
    expect(await app.outbox.pendingCount(11)).toEqual({ ok: true, value: 2 })
    expect(await app.outbox.pendingCount(12)).toEqual({ ok: true, value: 1 })
    // officer1's cached profile stays too; only the tokens are gone
    const p = await app.profile.loadProfile(11)
    expect(p.ok && p.value?.user.username).toBe('officer1')
    expect(await app.sessionData.loadSession(11)).toEqual({ ok: true, value: undefined })
  })

  it('logging in as another user without logging out keeps the first user’s data', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    await app.sync()
    await app.outbox.enqueue({ userId: 11, kind: 'report', payload: 1 })
    await app.login('leader1', 'gridpatrol-demo')
    await app.sync()
    expect(app.areas.value).toHaveLength(3)
    expect(await app.outbox.pendingCount(11)).toEqual({ ok: true, value: 1 })
    const areas11 = await app.profile.loadAreas(11)
    expect(areas11.ok && areas11.value).toHaveLength(2)
  })

  it('returns a storage error (quota full) instead of swallowing it, and the UI text names it', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    vi.spyOn(app.db.outbox, 'add').mockRejectedValue(new DOMException('disk full', 'QuotaExceededError'))
    const r = await app.outbox.enqueue({ userId: 11, kind: 'report', payload: 1 })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error).toBeInstanceOf(app.dbMod.StorageError)
    expect(r.error.kind).toBe('quota')
    const { describeError } = await import('@/composables/useNotify')
    expect(describeError(r.error)).toBe('本机存储空间已满，请清理手机空间')
  })

  it('reports a storage failure during sync to the error sink', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    vi.spyOn(app.db.areas, 'bulkPut').mockRejectedValue(new DOMException('disk full', 'QuotaExceededError'))
    await app.sync()
    expect(app.errors.some((e) => e instanceof app.dbMod.StorageError && e.kind === 'quota')).toBe(true)
    expect(app.session.storageError?.kind).toBe('quota')
  })
})
