// Colour scale of grid coverage (share of a grid's cells patrolled): five steps from red to green, the last step
// starting at the default task target (80 %), grey for no figure. Stepped rather than continuous so a leader can
// read a grid's class off the legend; the list and the tooltips always print the percentage as well, because
// red against green alone fails for colour-blind readers.

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
