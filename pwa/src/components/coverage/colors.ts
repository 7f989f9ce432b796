// Colour scale of grid coverage (share of a grid's cells patrolled): five steps from red to green, the last step
// starting at the default task target (80 %), grey for no figure. Stepped rather than continuous so a leader can
// read a grid's class off the legend; the list and the tooltips always print the percentage as well, because
// red against green alone fails for colour-blind readers. The map draws either these grid colours (zoomed out) or
// the server's 10 m cells (zoomed in), never both on top of each other: blended, a green cell over a red grid was
// a grey-beige that no legend entry showed. Legend swatches are the colours as drawn, translucency included.

export const NO_DATA_COLOR = '#9ca3af'

export interface CoverageStep {
  /** lower bound, inclusive (0..1) */
  min: number
  color: string
}

export const COVERAGE_STEPS: readonly CoverageStep[] = [
  { min: 0, color: '#b91c1c' },
  { min: 0.2, color: '#f97316' },
  { min: 0.4, color: '#facc15' },
  { min: 0.6, color: '#84cc16' },
  { min: 0.8, color: '#15803d' },
]

/** The colour of a covered_ratio; NaN, null and undefined have no figure. Ratios are clamped to 0..1. */
export function coverageColor(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return NO_DATA_COLOR
  const r = Math.min(1, Math.max(0, ratio))
  let color = COVERAGE_STEPS[0].color
  for (const step of COVERAGE_STEPS) if (r >= step.min) color = step.color
  return color
}

export interface LegendEntry {
  color: string
  /** "0–20%", …, "≥80%" */
  label: string
}

export function coverageLegend(): LegendEntry[] {
  return COVERAGE_STEPS.map((step, i) => {
    const next = COVERAGE_STEPS[i + 1]
    const lo = Math.round(step.min * 100)
    return { color: step.color, label: next ? `${lo}–${Math.round(next.min * 100)}%` : `≥${lo}%` }
  })
}

/** 0.4567 -> "46%"; a covered sliver is never shown as 0 %, a nearly full grid never as 100 %. */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—'
  const pct = ratio * 100
  if (pct > 0 && pct < 1) return '<1%'
  if (pct > 99 && pct < 100) return '>99%'
  return `${Math.round(pct)}%`
}

/** The leader map's background where no basemap is drawn (LeaderMap.vue uses it for its container). */
export const MAP_BACKGROUND = '#eef2f6'
/** Fill opacity of the grid colours on the map: the basemap's streets and names stay readable under them. */
export const GRID_FILL_OPACITY = 0.6
/**
 * From this tile zoom on the map shows the server's cells instead of the grid colours: a 10 m cell is about 2.7
 * screen pixels at zoom 15 (1.3 at 14), so below it the cells blur into one colour per grid at best and a red
 * sheet at worst. Leaflet rounds the map's zoom to the tile zoom, so cells show from map zoom 14.5.
 */
export const CELL_ZOOM = 15

/** The server's palette of coverage tiles, RGBA (backend/services/coverage_map.py, PALETTE); drawn at opacity 1. */
export const CELL_PALETTE = {
  uncovered: [229, 57, 53, 120],
  covered: [67, 160, 71, 110],
} as const satisfies Record<string, readonly [number, number, number, number]>

function rgbOf(hex: string): [number, number, number] {
  const h = hex.replace('#', '')
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number]
}

function hexOf(rgb: readonly number[]): string {
  return `#${rgb.map((v) => Math.round(Math.min(255, Math.max(0, v))).toString(16).padStart(2, '0')).join('')}`
}

/** `color` at `alpha` (0..1) over `background`, as the browser composites it: '#rrggbb'. */
export function blend(color: string | readonly number[], alpha: number, background = MAP_BACKGROUND): string {
  const top = typeof color === 'string' ? rgbOf(color) : color
  const bottom = rgbOf(background)
  return hexOf(bottom.map((b, i) => alpha * top[i] + (1 - alpha) * b))
}

/** A grid's colour as the map draws it over its plain background (legend and list swatches use it). */
export function drawnGridColor(ratio: number | null | undefined): string {
  return blend(coverageColor(ratio), GRID_FILL_OPACITY)
}

/** A cell's colour as the map draws it over its plain background. */
export function drawnCellColor(state: keyof typeof CELL_PALETTE): string {
  const [r, g, b, a] = CELL_PALETTE[state]
  return blend([r, g, b], a / 255)
}

export type MapMode = 'grids' | 'cells'

/** What the leader map draws at a map zoom: the grid colours, or the cells when the overlay is on and zoomed in. */
export function mapMode(zoom: number, overlay: boolean): MapMode {
  return overlay && Math.round(zoom) >= CELL_ZOOM ? 'cells' : 'grids'
}
