// Coverage colour scale: steps, bounds, clamping, no-data grey, legend and ratio text.
import { describe, expect, it } from 'vitest'
import {
  CELL_PALETTE, CELL_ZOOM, COVERAGE_STEPS, GRID_FILL_OPACITY, MAP_BACKGROUND, NO_DATA_COLOR, blend, coverageColor,
  coverageLegend, drawnCellColor, drawnGridColor, formatRatio, mapMode,
} from '@/components/coverage/colors'

describe('coverageColor', () => {
  it('steps from red to green, each lower bound inclusive', () => {
    expect(coverageColor(0)).toBe(COVERAGE_STEPS[0].color)
    expect(coverageColor(0.1999)).toBe(COVERAGE_STEPS[0].color)
    expect(coverageColor(0.2)).toBe(COVERAGE_STEPS[1].color)
    expect(coverageColor(0.5)).toBe(COVERAGE_STEPS[2].color)
    expect(coverageColor(0.79999)).toBe(COVERAGE_STEPS[3].color)
    expect(coverageColor(0.8)).toBe(COVERAGE_STEPS[4].color) // the default task target is "green"
    expect(coverageColor(1)).toBe(COVERAGE_STEPS[4].color)
  })

  it('never gets lighter-to-darker out of order: more coverage never gives an earlier step', () => {
    const index = (r: number) => COVERAGE_STEPS.findIndex((s) => s.color === coverageColor(r))
    let last = -1
    for (let r = 0; r <= 1.0001; r += 0.01) {
      expect(index(r)).toBeGreaterThanOrEqual(last)
      last = index(r)
    }
    expect(new Set(COVERAGE_STEPS.map((s) => s.color)).size).toBe(COVERAGE_STEPS.length)
  })

  it('clamps out-of-range ratios and greys out missing ones', () => {
    expect(coverageColor(-0.5)).toBe(COVERAGE_STEPS[0].color)
    expect(coverageColor(1.7)).toBe(COVERAGE_STEPS[4].color)
    expect(coverageColor(null)).toBe(NO_DATA_COLOR)
    expect(coverageColor(undefined)).toBe(NO_DATA_COLOR)
    expect(coverageColor(Number.NaN)).toBe(NO_DATA_COLOR)
  })
})

describe('legend and text', () => {
  it('labels every step with its range', () => {
    expect(coverageLegend()).toEqual([
      { color: COVERAGE_STEPS[0].color, label: '0–20%' },
      { color: COVERAGE_STEPS[1].color, label: '20–40%' },
      { color: COVERAGE_STEPS[2].color, label: '40–60%' },
      { color: COVERAGE_STEPS[3].color, label: '60–80%' },
      { color: COVERAGE_STEPS[4].color, label: '≥80%' },
    ])
  })

  it('formats ratios without rounding a sliver to 0 % or a near-full grid to 100 %', () => {
    expect(formatRatio(0)).toBe('0%')
    expect(formatRatio(0.004)).toBe('<1%')
    expect(formatRatio(0.4567)).toBe('46%')
    expect(formatRatio(0.995)).toBe('>99%')
    expect(formatRatio(1)).toBe('100%')
    expect(formatRatio(null)).toBe('—')
  })
})

describe('colours as drawn', () => {
  it('composites like the browser: alpha × colour + (1 − alpha) × background', () => {
    expect(blend('#ff0000', 1, '#000000')).toBe('#ff0000')
    expect(blend('#ff0000', 0, '#0000ff')).toBe('#0000ff')
    expect(blend('#ffffff', 0.5, '#000000')).toBe('#808080')
    expect(blend([67, 160, 71], 110 / 255, '#eef2f6')).toBe('#a4cfab')
    expect(blend('#fff', 0.5, '#000')).toBe('#808080') // short hex
  })

  it('gives grid and cell swatches the map fill over the map background, so legend and map agree', () => {
    expect(drawnGridColor(0.9)).toBe(blend(COVERAGE_STEPS[4].color, GRID_FILL_OPACITY, MAP_BACKGROUND))
    expect(drawnGridColor(null)).toBe(blend(NO_DATA_COLOR, GRID_FILL_OPACITY, MAP_BACKGROUND))
    const [r, g, b, a] = CELL_PALETTE.covered
    expect(drawnCellColor('covered')).toBe(blend([r, g, b], a / 255, MAP_BACKGROUND))
    expect(drawnCellColor('covered')).not.toBe(drawnCellColor('uncovered'))
  })

  it('shows cells only with the overlay on and from the cell zoom, which Leaflet reaches by rounding', () => {
    expect(mapMode(CELL_ZOOM, true)).toBe('cells')
    expect(mapMode(CELL_ZOOM - 0.5, true)).toBe('cells')
    expect(mapMode(CELL_ZOOM - 0.75, true)).toBe('grids')
    expect(mapMode(12, true)).toBe('grids')
    expect(mapMode(18, false)).toBe('grids')
  })
})
