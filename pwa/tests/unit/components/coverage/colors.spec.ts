// Coverage colour scale: steps, bounds, clamping, no-data grey, legend and ratio text.
import { describe, expect, it } from 'vitest'
import { COVERAGE_STEPS, NO_DATA_COLOR, coverageColor, coverageLegend, formatRatio } from '@/components/coverage/colors'

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
