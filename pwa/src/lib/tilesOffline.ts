// The downloaded offline map as the app knows it: what was planned and stored (kv `offlineMap`), whether the current
// basemap can be drawn from it while offline, and the plan for a new download (tiles of the user's grids).
import { reactive, shallowRef } from 'vue'
import type { AreaFeature } from '@/api/types'
import type { ResolvedBasemap } from '@/components/map/basemap'
import { toDisplayCrs } from '@/components/map/display'
import type { Result } from '@/data/db'
import { deleteKv, getKv, setKv } from '@/data/kv'
import {
  cacheStorageAvailable,
  deleteTileCache,
  downloadTiles,
  pruneTileCache,
  type DownloadOptions,
  type DownloadOutcome,
  type DownloadProgress,
} from './tilesCache'
import { geometryBbox, tilesForBboxes, tileUrl, type Bbox, type TileCoord } from './tiles'

export const OFFLINE_MAP_KEY = 'offlineMap'

/** What kv `offlineMap` holds: one offline map per device (basemap tiles are not personal). */
export interface OfflineMapMeta {
  /** URL templates of the downloaded layers; the map uses the cache only for the same templates */
  layers: string[]
  crs: 'wgs84' | 'gcj02'
  zooms: number[]
  gridCount: number
  /** tile URLs planned (tiles × layers) */
  total: number
  done: number
  failed: number
  bytes: number
  startedAt: number
  finishedAt: number
  complete: boolean
  userId: number | null
}

export const offlineMap = shallowRef<OfflineMapMeta | null>(null)

let loading: Promise<Result<OfflineMapMeta | null>> | null = null

/** Read the metadata once per page load (later calls share the first read). */
export function loadOfflineMap(force = false): Promise<Result<OfflineMapMeta | null>> {
  if (!loading || force) {
    loading = getKv<OfflineMapMeta>(OFFLINE_MAP_KEY).then((r) => {
      if (!r.ok) return r
      offlineMap.value = r.value ?? null
      return { ok: true as const, value: r.value ?? null }
    })
  }
  return loading
}

export async function saveOfflineMap(meta: OfflineMapMeta): Promise<Result<void>> {
  const r = await setKv(OFFLINE_MAP_KEY, meta)
  if (r.ok) offlineMap.value = meta
  return r
}

export async function forgetOfflineMap(): Promise<Result<void>> {
  const r = await deleteKv(OFFLINE_MAP_KEY)
  if (r.ok) offlineMap.value = null
  return r
}

/** The basemap's tiles were downloaded (at least partly) for exactly these layer templates. */
export function offlineTilesFor(basemap: ResolvedBasemap | null, meta: OfflineMapMeta | null = offlineMap.value): boolean {
  if (!basemap || !meta || meta.done - meta.failed <= 0) return false
  return basemap.layers.every((l) => meta.layers.includes(l.url))
}

export interface DownloadPlan {
  bboxes: Bbox[]
  tiles: TileCoord[]
  /** deduplicated tiles per zoom (one layer) */
  perZoom: Record<number, number>
  /** every URL to fetch: tiles × layers */
  urls: string[]
}

/** Bboxes of the grids in the basemap's coordinate system (GCJ-02 basemaps show shifted grids, so shift first). */
export function gridBboxes(features: readonly AreaFeature[], crs: 'wgs84' | 'gcj02'): Bbox[] {
  const grids = features.filter((f) => f.properties.kind === 'grid' && f.geometry)
  return toDisplayCrs(grids, crs)
    .features.map((f) => geometryBbox(f.geometry))
    .filter((b): b is Bbox => b !== null)
}

/** Leaflet's Browser.retina: its tile URLs carry '@2x' for `{r}` on such screens, so ours must too. */
export function isRetina(): boolean {
  return typeof window !== 'undefined' && (window.devicePixelRatio || 1) > 1
}

export function planDownload(features: readonly AreaFeature[], basemap: ResolvedBasemap, zooms: readonly number[]): DownloadPlan {
  const bboxes = gridBboxes(features, basemap.crs)
  const usable = zooms.filter((z) => basemap.layers.every((l) => z <= l.maxZoom))
  const tiles = tilesForBboxes(bboxes, usable)
  const perZoom: Record<number, number> = {}
  for (const z of usable) perZoom[z] = 0
  for (const t of tiles) perZoom[t.z] += 1
  const urls: string[] = []
  for (const layer of basemap.layers) for (const t of tiles) urls.push(tileUrl(layer, t, isRetina()))
  return { bboxes, tiles, perZoom, urls }
}

export interface DownloadState {
  running: boolean
  progress: DownloadProgress | null
  outcome: DownloadOutcome | null
}

/** Kept outside the page, so leaving the page and coming back shows the download still running. */
export const offlineDownload = reactive<DownloadState>({ running: false, progress: null, outcome: null })
let controller: AbortController | null = null

/**
 * Download the plan into the cache and record it in kv. The cache ends up holding exactly the plan's tiles:
 * tiles of another basemap or of zooms no longer chosen are deleted first, tiles already there are kept.
 */
export async function runOfflineDownload(
  basemap: ResolvedBasemap,
  plan: DownloadPlan,
  zooms: readonly number[],
  gridCount: number,
  userId: number | null,
  opts: Pick<DownloadOptions, 'fetchImpl' | 'cacheStorage' | 'concurrency'> = {},
): Promise<{ outcome: DownloadOutcome; saved: Result<void> }> {
  if (offlineDownload.running) throw new Error('a download is already running')
  controller = new AbortController()
  offlineDownload.running = true
  offlineDownload.outcome = null
  offlineDownload.progress = { done: 0, total: plan.urls.length, bytes: 0, failed: 0, reused: 0 }
  const startedAt = Date.now()
  try {
    await pruneTileCache(new Set(plan.urls), opts.cacheStorage)
    const outcome = await downloadTiles(plan.urls, {
      ...opts,
      signal: controller.signal,
      onProgress: (p) => (offlineDownload.progress = p),
    })
    offlineDownload.outcome = outcome
    const saved = await saveOfflineMap({
      layers: basemap.layers.map((l) => l.url),
      crs: basemap.crs,
      zooms: [...zooms].sort((a, b) => a - b),
      gridCount,
      total: plan.urls.length,
      done: outcome.done,
      failed: outcome.failed,
      bytes: outcome.bytes,
      startedAt,
      finishedAt: Date.now(),
      complete: outcome.status === 'complete' && outcome.failed === 0,
      userId,
    })
    return { outcome, saved }
  } finally {
    offlineDownload.running = false
    controller = null
  }
}

export function cancelOfflineDownload(): void {
  controller?.abort()
}

/** Delete the downloaded tiles and their record. */
export async function deleteOfflineMap(storage?: CacheStorage): Promise<Result<void>> {
  if (cacheStorageAvailable(storage)) await deleteTileCache(storage)
  offlineDownload.outcome = null
  offlineDownload.progress = null
  return forgetOfflineMap()
}
