// Coverage tiles: fetched through http.ts with the filter and the basemap's datum, shown as blob: URLs that are
// revoked (and their request aborted) when Leaflet unloads the tile.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

const getCoverageTile = vi.fn()
vi.mock('@/api/coverage', () => ({ getCoverageTile: (...args: unknown[]) => getCoverageTile(...args) }))

import L from 'leaflet'
import { CoverageTileLayer } from '@/components/coverage/CoverageTileLayer'

type Tile = HTMLImageElement
type Internals = { createTile(c: L.Coords, done: L.DoneCallback): Tile }

describe('CoverageTileLayer', () => {
  const created: string[] = []
  const revoked: string[] = []
  beforeEach(() => {
    created.length = 0
    revoked.length = 0
    getCoverageTile.mockReset()
    vi.stubGlobal('URL', Object.assign(URL, {
      createObjectURL: () => {
        created.push(`blob:${created.length}`)
        return created[created.length - 1]
      },
      revokeObjectURL: (u: string) => revoked.push(u),
    }))
  })
  afterEach(() => vi.unstubAllGlobals())

  const coords = (z: number, x: number, y: number) => Object.assign(L.point(x, y), { z }) as L.Coords
  const filter = { from: '2026-11-23', to: '2026-11-23', squad: 1, crs: 'gcj02' as const }

  it('asks for the tile with the filter and crs, shows it as a blob: URL, and revokes it on unload', async () => {
    getCoverageTile.mockResolvedValue(new Blob([new Uint8Array(8)], { type: 'image/png' }))
    const layer = new CoverageTileLayer(filter)
    const done = vi.fn()
    const tile = (layer as unknown as Internals).createTile(coords(15, 26901, 12425), done)
    expect(getCoverageTile).toHaveBeenCalledWith(15, 26901, 12425, filter, expect.any(AbortSignal))
    await vi.waitFor(() => expect(tile.src).toBe('blob:0'))
    expect(layer.liveUrls).toBe(1)
    tile.onload?.(new Event('load'))
    expect(done).toHaveBeenCalledWith(undefined, tile)

    layer.fire('tileunload', { tile, coords: coords(15, 26901, 12425) })
    expect(revoked).toEqual(['blob:0'])
    expect(layer.liveUrls).toBe(0)
  })

  it('aborts a tile still loading when it is unloaded, and makes no blob: URL for it', async () => {
    let signal: AbortSignal | undefined
    let resolve: (b: Blob) => void = () => {}
    getCoverageTile.mockImplementation((_z, _x, _y, _f, s: AbortSignal) => {
      signal = s
      return new Promise<Blob>((r) => (resolve = r))
    })
    const layer = new CoverageTileLayer(filter)
    const done = vi.fn()
    const tile = (layer as unknown as Internals).createTile(coords(14, 1, 2), done)
    layer.fire('tileunload', { tile, coords: coords(14, 1, 2) })
    expect(signal?.aborted).toBe(true)
    resolve(new Blob([]))
    await new Promise((r) => setTimeout(r, 0))
    expect(created).toEqual([])
    expect(done).not.toHaveBeenCalled()
  })

  it('reports a failed tile (offline, 403) to Leaflet instead of leaving it pending', async () => {
    getCoverageTile.mockRejectedValue(new Error('offline'))
    const layer = new CoverageTileLayer(filter)
    const done = vi.fn()
    const tile = (layer as unknown as Internals).createTile(coords(14, 1, 2), done)
    await vi.waitFor(() => expect(done).toHaveBeenCalledWith(expect.any(Error), tile))
  })

  it('redraws only when the filter really changed', () => {
    const layer = new CoverageTileLayer(filter)
    const redraw = vi.spyOn(layer, 'redraw')
    layer.setFilter({ ...filter })
    expect(redraw).not.toHaveBeenCalled()
    layer.setFilter({ ...filter, officer: 7 })
    expect(redraw).toHaveBeenCalledTimes(1)
  })
})
