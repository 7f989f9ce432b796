// The coverage map as a Leaflet layer: tiles from GET /api/v1/coverage/tiles/{z}/{x}/{y}.png need the bearer token,
// which an <img src> cannot send, so each tile is fetched through http.ts (token refresh included) and shown as a
// blob: URL that is revoked, and its request aborted, when Leaflet unloads the tile.
import L from '@/components/map/leaflet'
import { getCoverageTile, type CoverageFilter } from '@/api/coverage'
import { CELL_ZOOM } from './colors'

export type CoverageTileFilter = CoverageFilter & { crs: 'wgs84' | 'gcj02' }

type TileImage = HTMLImageElement & { gpAbort?: AbortController; gpBlobUrl?: string }

function release(tile: TileImage): void {
  tile.gpAbort?.abort()
  if (tile.gpBlobUrl) URL.revokeObjectURL(tile.gpBlobUrl)
  tile.gpBlobUrl = undefined
}

export class CoverageTileLayer extends L.GridLayer {
  private filter: CoverageTileFilter
  /** blob: URLs alive now (tests and the page check nothing leaks) */
  liveUrls = 0

  constructor(filter: CoverageTileFilter, options: L.GridLayerOptions = {}) {
    // Below CELL_ZOOM a cell is a pixel or less and the map shows the grid colours instead. Opacity 1: the
    // server's palette carries the translucency, and the legend draws the same colours (colors.ts).
    super({ tileSize: 256, opacity: 1, minZoom: CELL_ZOOM, maxZoom: 20, className: 'gp-coverage-tiles', ...options })
    this.filter = filter
    this.on('tileunload', (e: L.TileEvent) => {
      const tile = e.tile as TileImage
      if (tile.gpBlobUrl) this.liveUrls -= 1
      release(tile)
    })
  }

  setFilter(filter: CoverageTileFilter): void {
    if (JSON.stringify(filter) === JSON.stringify(this.filter)) return
    this.filter = filter
    this.redraw()
  }

  /**
   * Leaflet 1.9's GridLayer.redraw takes the map's zoom as the tile zoom without rounding it, so with zoomSnap 0.25
   * it asks for tiles like z=11.5 (the server answers 404). Removing and adding the layer goes through _setView,
   * which rounds; the removal unloads every tile (blob URLs revoked, requests aborted).
   */
  redraw(): this {
    const map = this._map
    if (map) {
      this.remove()
      this.addTo(map)
    }
    return this
  }

  protected createTile(coords: L.Coords, done: L.DoneCallback): HTMLElement {
    const tile = document.createElement('img') as TileImage
    tile.alt = ''
    tile.setAttribute('role', 'presentation')
    const controller = new AbortController()
    tile.gpAbort = controller
    getCoverageTile(coords.z, coords.x, coords.y, this.filter, controller.signal)
      .then((blob) => {
        if (controller.signal.aborted) return
        tile.gpBlobUrl = URL.createObjectURL(blob)
        this.liveUrls += 1
        tile.onload = () => done(undefined, tile)
        tile.onerror = () => done(new Error('coverage tile did not decode'), tile)
        tile.src = tile.gpBlobUrl
      })
      .catch((err: Error) => {
        // offline or aborted: the tile stays empty; the grid colours still show the figures
        if (!controller.signal.aborted) done(err, tile)
      })
    return tile
  }
}
