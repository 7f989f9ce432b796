// Downloading basemap tiles into Cache Storage (TILE_CACHE), measuring their size, and deleting them again.
// The service worker (src/sw.ts) answers the map's tile requests from this cache first, so they work offline.
import { TILE_CACHE } from './tiles'

export interface DownloadProgress {
  done: number
  total: number
  bytes: number
  failed: number
  /** tiles that were already in the cache and not fetched again */
  reused: number
}

export interface DownloadOptions {
  signal?: AbortSignal
  concurrency?: number
  onProgress?: (p: DownloadProgress) => void
  /** injectable for tests */
  fetchImpl?: typeof fetch
  cacheStorage?: CacheStorage
}

export type DownloadOutcome = DownloadProgress & { status: 'complete' | 'cancelled' | 'failed'; error?: Error }

/** Why tiles cannot be stored: no Cache Storage (old webview, plain http), no network or no CORS, disk full, HTTP error. */
export class TileCacheError extends Error {
  constructor(
    readonly kind: 'unsupported' | 'network' | 'quota' | 'http',
    message: string,
  ) {
    super(message)
    this.name = 'TileCacheError'
  }
}

export function cacheStorageAvailable(storage?: CacheStorage): boolean {
  return !!(storage ?? (typeof caches !== 'undefined' ? caches : undefined))
}

function storageOf(opts: { cacheStorage?: CacheStorage }): CacheStorage {
  const storage = opts.cacheStorage ?? (typeof caches !== 'undefined' ? caches : undefined)
  if (!storage) throw new TileCacheError('unsupported', 'Cache Storage is not available')
  return storage
}

async function bodySize(response: Response): Promise<number> {
  return (await response.clone().blob()).size
}

/**
 * Fetch one tile for the cache. CORS is required: an opaque (no-cors) answer cannot be measured and Chromium counts
 * each one as megabytes of quota, so a server without Access-Control-Allow-Origin is reported instead.
 */
async function fetchTile(url: string, fetchImpl: typeof fetch, signal?: AbortSignal): Promise<Response> {
  let response: Response
  try {
    response = await fetchImpl(url, { mode: 'cors', credentials: 'omit', signal })
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err
    throw new TileCacheError('network', (err as Error)?.message ?? String(err))
  }
  if (!response.ok) throw new TileCacheError('http', `HTTP ${response.status} ${url}`)
  return response
}

/** Sizes in bytes of a few tiles fetched now (not stored): the basis of the size estimate. */
export async function measureTileBytes(
  urls: readonly string[],
  opts: { fetchImpl?: typeof fetch; signal?: AbortSignal } = {},
): Promise<number[]> {
  const fetchImpl = opts.fetchImpl ?? fetch.bind(globalThis)
  const sizes = await Promise.all(
    urls.map(async (url) => {
      try {
        return await bodySize(await fetchTile(url, fetchImpl, opts.signal))
      } catch {
        return 0
      }
    }),
  )
  return sizes.filter((s) => s > 0)
}

function isQuota(err: unknown): boolean {
  const e = err as { name?: string } | undefined
  return e?.name === 'QuotaExceededError'
}

/**
 * Download tiles into the cache, `concurrency` at a time. Tiles already cached are counted, not fetched again
 * (a cancelled download resumes where it stopped). A tile that fails twice is counted as failed and skipped;
 * a full disk or a server that refuses CORS stops the download.
 */
export async function downloadTiles(urls: readonly string[], opts: DownloadOptions = {}): Promise<DownloadOutcome> {
  const storage = storageOf(opts)
  const fetchImpl = opts.fetchImpl ?? fetch.bind(globalThis)
  const cache = await storage.open(TILE_CACHE)
  const progress: DownloadProgress = { done: 0, total: urls.length, bytes: 0, failed: 0, reused: 0 }
  const report = () => opts.onProgress?.({ ...progress })
  report()
  let next = 0
  let fatal: Error | null = null
  let fetchedOk = 0

  async function one(url: string): Promise<void> {
    const cached = await cache.match(url)
    if (cached) {
      const size = await bodySize(cached) // not `bytes += await …`: that reads bytes before the await and loses updates
      progress.bytes += size
      progress.reused += 1
      return
    }
    for (let attemptNo = 1; ; attemptNo++) {
      try {
        const response = await fetchTile(url, fetchImpl, opts.signal)
        const size = await bodySize(response)
        await cache.put(url, response)
        progress.bytes += size
        fetchedOk += 1
        return
      } catch (err) {
        if ((err as Error)?.name === 'AbortError') throw err
        if (isQuota(err)) throw new TileCacheError('quota', (err as Error).message)
        // Failing on the very first tiles (offline, or a server refusing CORS): every tile would fail the same way.
        if (err instanceof TileCacheError && err.kind === 'network' && fetchedOk === 0 && progress.failed >= 2) throw err
        if (attemptNo >= 2) {
          progress.failed += 1
          return
        }
      }
    }
  }

  async function worker(): Promise<void> {
    while (!fatal && !opts.signal?.aborted && next < urls.length) {
      const url = urls[next++]
      try {
        await one(url)
      } catch (err) {
        if ((err as Error)?.name !== 'AbortError') fatal = err as Error
        return
      }
      progress.done += 1
      report()
    }
  }

  const workers = Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 6, urls.length)) }, worker)
  await Promise.all(workers)
  if (fatal) return { ...progress, status: 'failed', error: fatal }
  if (opts.signal?.aborted) return { ...progress, status: 'cancelled' }
  return { ...progress, status: 'complete' }
}

/** Delete every downloaded tile. */
export async function deleteTileCache(storage?: CacheStorage): Promise<boolean> {
  return storageOf({ cacheStorage: storage }).delete(TILE_CACHE)
}

/** How many tiles are in the cache now (a cheap check that a download is really there). */
export async function cachedTileCount(storage?: CacheStorage): Promise<number> {
  const s = storageOf({ cacheStorage: storage })
  if (!(await s.has(TILE_CACHE))) return 0
  return (await (await s.open(TILE_CACHE)).keys()).length
}

/** Delete cached tiles that are not in `keep` (zoom levels or grids no longer chosen); returns how many went. */
export async function pruneTileCache(keep: ReadonlySet<string>, storage?: CacheStorage): Promise<number> {
  const s = storageOf({ cacheStorage: storage })
  if (!(await s.has(TILE_CACHE))) return 0
  const cache = await s.open(TILE_CACHE)
  let removed = 0
  for (const request of await cache.keys()) {
    if (!keep.has(request.url) && (await cache.delete(request))) removed += 1
  }
  return removed
}
