// A sync stores the user's areas for offline use, and leaves them alone when the server sends the same ones again
// (rewriting every polygon on each start-up was one of a slow phone's long tasks).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MockServer, square } from '../mockServer'
import { loadApp, uniqueDbName } from '../appHarness'

afterEach(() => vi.unstubAllGlobals())

async function storedIds(app: Awaited<ReturnType<typeof loadApp>>, userId: number) {
  return (await app.db.areas.where('userId').equals(userId).toArray()).map((r) => r.id).sort()
}

describe('sync and the stored areas', () => {
  it('writes the areas when they change and not when the server sends the same ones', async () => {
    const server = new MockServer()
    const dbName = uniqueDbName()
    const app = await loadApp(server, dbName)
    await app.login('officer1', 'gridpatrol-demo')
    expect(await app.sync()).toBe(true)
    expect(await storedIds(app, 11)).toEqual([101, 102])
    const firstSyncedAt = (await app.db.profiles.get(11))?.lastSyncedAt

    // The same areas again: rows untouched (a marker put into a stored row survives), the profile still updated.
    await app.db.areas.update([11, 101], { marker: 'kept' } as never)
    await new Promise((r) => setTimeout(r, 2))
    expect(await app.sync()).toBe(true)
    expect(((await app.db.areas.get([11, 101])) as unknown as { marker?: string }).marker).toBe('kept')
    expect((await app.db.profiles.get(11))?.lastSyncedAt).toBeGreaterThan(firstSyncedAt ?? Infinity)

    // One more grid and one renamed: the stored set is replaced, and a reload shows the new one.
    server.areas[11] = [{ ...square(101, 'grid', 115.5, 38.1), properties: { ...square(101, 'grid', 115.5, 38.1).properties, name: '新名字' } },
      square(102, 'grid', 115.51, 38.1), square(103, 'grid', 115.52, 38.1)]
    expect(await app.sync()).toBe(true)
    expect(await storedIds(app, 11)).toEqual([101, 102, 103])
    expect(((await app.db.areas.get([11, 101])) as unknown as { marker?: string }).marker).toBeUndefined()
    const reloaded = await loadApp(server, dbName)
    expect(reloaded.areas.value.find((f) => f.id === 101)?.properties.name).toBe('新名字')
  })

  it('compares with what the device holds, not with what the screen shows', async () => {
    const server = new MockServer()
    const app = await loadApp(server, uniqueDbName())
    await app.login('officer1', 'gridpatrol-demo')
    expect(await app.sync()).toBe(true)
    const next = await loadApp(server, uniqueDbName()) // another device's database: nothing stored yet
    await next.login('officer1', 'gridpatrol-demo')
    next.areas.value = app.areas.value // on screen, but not on this device's database
    expect(await next.sync()).toBe(true)
    expect(await storedIds(next, 11)).toEqual([101, 102])
  })
})
