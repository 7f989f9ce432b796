// Offline map download: progress, dedup with tiles already cached, failures, cancel, pruning, kv record.
import { beforeEach, describe, expect, it } from 'vitest'
import { TILE_CACHE, estimateDownload } from '@/lib/tiles'
import { cachedTileCount, deleteTileCache, downloadTiles, measureTileBytes, pruneTileCache, TileCacheError } from '@/lib/tilesCache'
import {
  deleteOfflineMap,
  loadOfflineMap,
  offlineDownload,
  offlineMap,
  offlineTilesFor,
  planDownload,
  runOfflineDownload,
} from '@/lib/tilesOffline'
import type { AreaFeature } from '@/api/types'
import type { ResolvedBasemap } from '@/components/map/basemap'
import { GridPatrolDB, useDatabase } from '@/data/db'

/** Cache Storage in memory: what downloadTiles needs (open, has, delete; match, put, keys, delete). */
class MemoryCache {
  store = new Map<string, Response>()
  async match(url: string | Request) {
    const r = this.store.get(typeof url === 'string' ? url : url.url)
    return r?.clone()
  }
  async put(url: string, response: Response) {
    this.store.set(url, response)
  }
  async keys() {
    return [...this.store.keys()].map((u) => ({ url: u }) as Request)
  }
  async delete(req: string | Request) {
    return this.store.delete(typeof req === 'string' ? req : req.url)
  }
}
class MemoryCacheStorage {
  caches = new Map<string, MemoryCache>()
  async open(name: string) {
    if (!this.caches.has(name)) this.caches.set(name, new MemoryCache())
    return this.caches.get(name)!
  }
  async has(name: string) {
    return this.caches.has(name)
  }
  async delete(name: string) {
    return this.caches.delete(name)
  }
}

function png(bytes: number): Response {
  return new Response(new Uint8Array(bytes), { status: 200, headers: { 'Content-Type': 'image/png' } })
}

/** A tile server: every tile is `size` bytes; `fail` lists URLs answering 500; counts the requests. */
function tileServer(size = 1000, fail: (url: string, n: number) => boolean = () => false) {
  const requests: string[] = []
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    requests.push(url)
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError')
    if (fail(url, requests.filter((u) => u === url).length)) return new Response('', { status: 500 })
    return png(size)
  }) as typeof fetch
  return { requests, fetchImpl }
}

const urls = (n: number) => Array.from({ length: n }, (_, i) => `https://tiles.test/16/${i}/7.png`)

describe('downloadTiles', () => {
  let storage: MemoryCacheStorage
  beforeEach(() => {
    storage = new MemoryCacheStorage()
  })
  const cs = () => storage as unknown as CacheStorage

  it('stores every tile, reports progress up to done = total, and counts bytes', async () => {
    const server = tileServer(1234)
    const seen: number[] = []
    const out = await downloadTiles(urls(25), {
      fetchImpl: server.fetchImpl,
      cacheStorage: cs(),
      concurrency: 4,
      onProgress: (p) => seen.push(p.done),
    })
    expect(out).toMatchObject({ status: 'complete', done: 25, total: 25, bytes: 25 * 1234, failed: 0, reused: 0 })
    expect(seen[0]).toBe(0)
    expect(seen[seen.length - 1]).toBe(25)
    expect([...seen].sort((a, b) => a - b)).toEqual(seen) // never goes backwards
    expect(await cachedTileCount(cs())).toBe(25)
    expect(storage.caches.has(TILE_CACHE)).toBe(true)
  })

  it('does not fetch tiles already in the cache again (a cancelled download resumes)', async () => {
    const first = tileServer(500)
    await downloadTiles(urls(10), { fetchImpl: first.fetchImpl, cacheStorage: cs() })
    const second = tileServer(500)
    const out = await downloadTiles(urls(15), { fetchImpl: second.fetchImpl, cacheStorage: cs() })
    expect(second.requests).toHaveLength(5)
    expect(out).toMatchObject({ status: 'complete', done: 15, reused: 10, bytes: 15 * 500 })
  })

  it('retries a failing tile once, then counts it as failed and goes on', async () => {
    const bad = urls(6)[2]
    const flaky = urls(6)[4]
    const server = tileServer(100, (u, n) => u === bad || (u === flaky && n === 1))
    const out = await downloadTiles(urls(6), { fetchImpl: server.fetchImpl, cacheStorage: cs(), concurrency: 1 })
    expect(out).toMatchObject({ status: 'complete', done: 6, failed: 1, bytes: 500 })
    expect(server.requests.filter((u) => u === bad)).toHaveLength(2)
    expect(await cachedTileCount(cs())).toBe(5)
  })

  it('stops at once when the first tiles cannot be fetched at all (offline or no CORS)', async () => {
    const fetchImpl = (async () => {
      throw new TypeError('Failed to fetch')
    }) as typeof fetch
    const out = await downloadTiles(urls(50), { fetchImpl, cacheStorage: cs(), concurrency: 2 })
    expect(out.status).toBe('failed')
    expect(out.error).toBeInstanceOf(TileCacheError)
    expect((out.error as TileCacheError).kind).toBe('network')
    expect(out.done).toBeLessThan(10)
  })

  it('a full disk stops the download with a quota error', async () => {
    const server = tileServer(100)
    const full = new MemoryCacheStorage()
    const cache = await full.open(TILE_CACHE)
    cache.put = async () => {
      throw new DOMException('full', 'QuotaExceededError')
    }
    const out = await downloadTiles(urls(5), { fetchImpl: server.fetchImpl, cacheStorage: full as unknown as CacheStorage })
    expect(out.status).toBe('failed')
    expect((out.error as TileCacheError).kind).toBe('quota')
  })

  it('cancel stops between tiles and keeps what was stored', async () => {
    const controller = new AbortController()
    const server = tileServer(10)
    const out = await downloadTiles(urls(40), {
      fetchImpl: server.fetchImpl,
      cacheStorage: cs(),
      concurrency: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 7) controller.abort()
      },
    })
    expect(out.status).toBe('cancelled')
    expect(out.done).toBe(7)
    expect(await cachedTileCount(cs())).toBe(7)
  })

  it('prunes tiles no longer planned and deletes the whole cache', async () => {
    const server = tileServer(10)
    await downloadTiles(urls(8), { fetchImpl: server.fetchImpl, cacheStorage: cs() })
    expect(await pruneTileCache(new Set(urls(3)), cs())).toBe(5)
    expect(await cachedTileCount(cs())).toBe(3)
    expect(await deleteTileCache(cs())).toBe(true)
    expect(await cachedTileCount(cs())).toBe(0)
  })

  it('measures tile sizes for the estimate, leaving out tiles that failed', async () => {
    const server = tileServer(2500, (u) => u.endsWith('/1/7.png'))
    const sizes = await measureTileBytes(urls(3), { fetchImpl: server.fetchImpl })
    expect(sizes).toEqual([2500, 2500])
    expect(estimateDownload(40, sizes)).toMatchObject({ bytes: 100_000, basis: 'measured' })
  })
})

describe('offline map plan and record', () => {
  const basemap: ResolvedBasemap = {
    name: 'tiles.test',
    crs: 'wgs84',
    layers: [{ url: 'https://tiles.test/{z}/{x}/{y}.png', attribution: '', subdomains: 'abc', maxZoom: 18 }],
  }
  const square = (id: number, w: number, s: number, size = 0.004): AreaFeature => ({
    type: 'Feature',
    id,
    geometry: { type: 'Polygon', coordinates: [[[w, s], [w + size, s], [w + size, s + size], [w, s + size], [w, s]]] },
    properties: { kind: 'grid', name: `网格${id}`, code: null, parent_id: null, area_m2: 1 },
  })
  const zone: AreaFeature = { ...square(99, 115, 38, 0.5), properties: { ...square(99, 115, 38).properties, kind: 'zone' } }
  const grids = [square(1, 115.55, 38.09), square(2, 115.553, 38.09), zone]

  beforeEach(async () => {
    useDatabase(new GridPatrolDB(`tiles-${Math.random()}`))
    await loadOfflineMap(true)
  })

  it('plans only grids, deduplicated, one URL per tile and layer, within the layer max zoom', () => {
    const plan = planDownload(grids, basemap, [13, 14, 15, 16, 17, 18, 19])
    expect(plan.bboxes).toHaveLength(2) // the zone is not downloaded
    expect(Object.keys(plan.perZoom).map(Number)).toEqual([13, 14, 15, 16, 17, 18])
    expect(plan.urls).toHaveLength(plan.tiles.length)
    expect(new Set(plan.urls).size).toBe(plan.urls.length)
    const twoLayers = planDownload(grids, { ...basemap, layers: [basemap.layers[0], { ...basemap.layers[0], url: 'https://l.test/{z}/{x}/{y}' }] }, [15])
    expect(twoLayers.urls).toHaveLength(2 * twoLayers.tiles.length)
  })

  it('a GCJ-02 basemap downloads the tiles under the shifted grids', () => {
    const wgs = planDownload(grids, basemap, [17])
    const gcj = planDownload(grids, { ...basemap, crs: 'gcj02' }, [17])
    expect(gcj.bboxes[0][0]).toBeGreaterThan(wgs.bboxes[0][0]) // shifted east by hundreds of metres
    expect(gcj.urls).not.toEqual(wgs.urls)
  })

  it('records the download in kv, offers it to the map for the same basemap only, and deletes it', async () => {
    const storage = new MemoryCacheStorage() as unknown as CacheStorage
    const plan = planDownload(grids, basemap, [14, 15])
    const server = tileServer(300)
    const { outcome, saved } = await runOfflineDownload(basemap, plan, [15, 14], 2, 7, {
      fetchImpl: server.fetchImpl,
      cacheStorage: storage,
    })
    expect(saved.ok).toBe(true)
    expect(outcome.status).toBe('complete')
    expect(offlineDownload.running).toBe(false)
    expect(offlineMap.value).toMatchObject({ zooms: [14, 15], total: plan.urls.length, done: plan.urls.length, bytes: 300 * plan.urls.length, complete: true, userId: 7 })

    offlineMap.value = null
    const loaded = await loadOfflineMap(true)
    expect(loaded.ok && loaded.value?.layers).toEqual([basemap.layers[0].url])
    expect(offlineTilesFor(basemap)).toBe(true)
    expect(offlineTilesFor({ ...basemap, layers: [{ ...basemap.layers[0], url: 'https://other/{z}/{x}/{y}' }] })).toBe(false)
    expect(offlineTilesFor(null)).toBe(false)

    expect((await deleteOfflineMap(storage)).ok).toBe(true)
    expect(offlineMap.value).toBeNull()
    expect(await cachedTileCount(storage)).toBe(0)
    const again = await loadOfflineMap(true)
    expect(again.ok && again.value).toBeNull()
  })
})
