import { describe, expect, it } from 'vitest'
import {
  BATCH_FIXES, BATCH_INTERVAL_MS, FIRST_BATCH_MS, GAP_MS, OFFLINE_BATCH_AGE_MS, TrackBuilder, currentGap, formatDuration, formatPercent, haversineM, partFor,
  shouldCut, type GapInputs,
} from '@/components/patrol/recorder'

const LAT = 38.1
const M_PER_DEG_LAT = 111_195 // on the 6,371,008.8 m sphere
const north = (m: number) => LAT + m / M_PER_DEG_LAT

describe('haversineM', () => {
  it('measures 100 m north as 100 m', () => {
    expect(haversineM([115.55, LAT], [115.55, north(100)])).toBeCloseTo(100, 0)
  })
})

describe('partFor', () => {
  it('starts at part 0 and keeps the part while fixes arrive within 30 s', () => {
    expect(partFor(null, 1000)).toBe(0)
    expect(partFor({ t: 1000, part: 0 }, 1000 + GAP_MS)).toBe(0)
  })
  it('starts a new part after more than 30 s without a fix', () => {
    expect(partFor({ t: 1000, part: 2 }, 1001 + GAP_MS)).toBe(3)
  })
})

describe('TrackBuilder', () => {
  const fix = (i: number, m: number, part = 0, accuracyM = 5) => ({ t: i * 1000, lon: 115.55, lat: north(m), accuracyM, part })

  it('keeps good fixes in one line and sums the distance', () => {
    const b = new TrackBuilder()
    for (let i = 0; i < 5; i++) b.add(fix(i, i * 10))
    expect(b.parts).toHaveLength(1)
    expect(b.parts[0]).toHaveLength(5)
    expect(b.distanceM).toBeCloseTo(40, 0)
  })

  it('breaks the line at a part change and never counts the jump', () => {
    const b = new TrackBuilder()
    b.add(fix(0, 0))
    b.add(fix(1, 10))
    const step = b.add(fix(40, 200, 1))
    expect(step).toMatchObject({ kept: true, newPart: true, segment: null })
    b.add(fix(41, 210, 1))
    expect(b.parts.map((p) => p.length)).toEqual([2, 2])
    expect(b.distanceM).toBeCloseTo(20, 0)
  })

  it('leaves out fixes worse than 50 m and spikes faster than 50 m/s, like the server', () => {
    const b = new TrackBuilder()
    b.add(fix(0, 0))
    expect(b.add(fix(1, 5, 0, 80)).kept).toBe(false)
    expect(b.add(fix(2, 400)).kept).toBe(false) // 400 m in 2 s
    expect(b.add(fix(3, 15)).kept).toBe(true)
    expect(b.keptCount).toBe(2)
    expect(b.distanceM).toBeCloseTo(15, 0)
  })

  it('draws no line across a jump longer than 500 m even within a part', () => {
    const b = new TrackBuilder()
    b.add(fix(0, 0))
    expect(b.add(fix(20, 600)).newPart).toBe(true) // 30 m/s: plausible speed, but too long a step to draw
    expect(b.parts).toHaveLength(2)
    expect(b.distanceM).toBe(0)
  })
})

describe('shouldCut', () => {
  const online = { online: true, everCut: true }
  it('sends the first batch within seconds of the first fix, then at a steady short interval while online', () => {
    expect(FIRST_BATCH_MS).toBeLessThanOrEqual(5_000)
    expect(BATCH_INTERVAL_MS).toBeGreaterThanOrEqual(10_000)
    expect(BATCH_INTERVAL_MS).toBeLessThanOrEqual(15_000)
    const first = { online: true, everCut: false, uncut: 1, oldestUncutT: 0 }
    expect(shouldCut({ ...first, now: FIRST_BATCH_MS - 1 })).toBe(false)
    expect(shouldCut({ ...first, now: FIRST_BATCH_MS })).toBe(true)
    expect(shouldCut({ ...online, uncut: 9, oldestUncutT: 0, now: FIRST_BATCH_MS })).toBe(false)
    expect(shouldCut({ ...online, uncut: 9, oldestUncutT: 0, now: BATCH_INTERVAL_MS })).toBe(true)
  })

  it('never cuts nothing, and stays bounded: offline only every few minutes or at the largest batch', () => {
    expect(shouldCut({ ...online, uncut: 0, oldestUncutT: null, now: 1e9 })).toBe(false)
    const offline = { online: false, everCut: true, oldestUncutT: 0 }
    expect(shouldCut({ ...offline, uncut: 100, now: BATCH_INTERVAL_MS })).toBe(false)
    expect(shouldCut({ ...offline, uncut: 100, now: OFFLINE_BATCH_AGE_MS })).toBe(true)
    expect(shouldCut({ ...offline, uncut: BATCH_FIXES, now: 0 })).toBe(true)
    expect(BATCH_FIXES).toBeLessThanOrEqual(5_000) // the server takes up to 5,000 fixes a batch
  })
})

describe('currentGap', () => {
  const base: GapInputs = {
    now: 100_000,
    lastFixAt: 90_000,
    startedAt: 0,
    recordingSince: 0,
    geolocationSupported: true,
    lastError: null,
    hiddenAt: null,
  }

  it('is quiet while fixes come within 30 s', () => {
    expect(currentGap(base)).toBeNull()
    expect(currentGap({ ...base, now: 90_000 + GAP_MS })).toBeNull()
  })

  it('says how long and that it waits for a signal after 30 s', () => {
    expect(currentGap({ ...base, now: 90_000 + GAP_MS + 1000 })).toEqual({ reason: 'waiting', since: 90_000, seconds: 31 })
  })

  it('counts from the start before the first fix', () => {
    expect(currentGap({ ...base, lastFixAt: null, now: 31_000 })).toMatchObject({ reason: 'waiting', since: 0, seconds: 31 })
  })

  it('names the screen going off, the app being closed, no signal and time-outs', () => {
    const late = { ...base, now: 200_000 }
    expect(currentGap({ ...late, hiddenAt: 95_000 })?.reason).toBe('hidden')
    expect(currentGap({ ...late, recordingSince: 180_000 })?.reason).toBe('closed')
    expect(currentGap({ ...late, lastError: { code: 2, at: 150_000 } })?.reason).toBe('unavailable')
    expect(currentGap({ ...late, lastError: { code: 3, at: 150_000 } })?.reason).toBe('timeout')
    // an error from before the last fix says nothing about now
    expect(currentGap({ ...late, lastError: { code: 2, at: 50_000 } })?.reason).toBe('waiting')
  })

  it('says at once when permission is denied or there is no geolocation', () => {
    expect(currentGap({ ...base, lastError: { code: 1, at: 95_000 } })?.reason).toBe('denied')
    expect(currentGap({ ...base, geolocationSupported: false })?.reason).toBe('unsupported')
  })
})

describe('formatting', () => {
  it('shows durations as hh:mm:ss and ratios as whole percent', () => {
    expect(formatDuration(3_725_400)).toBe('01:02:05')
    expect(formatDuration(-5)).toBe('00:00:00')
    expect(formatPercent(0.06)).toBe('6%')
    expect(formatPercent(0.1249)).toBe('12%')
    expect(formatPercent(0.125)).toBe('13%')
  })
})
