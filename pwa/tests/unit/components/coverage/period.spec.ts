// Periods in Shanghai local days whatever the device's time zone; Monday-based weeks; custom ranges in order.
import { describe, expect, it } from 'vitest'
import { addDays, ageParts, periodRange, shanghaiDate, shanghaiTime, weekdayIndex } from '@/components/coverage/period'

const at = (iso: string) => Date.parse(iso)

describe('periods', () => {
  it('uses the Shanghai date: 20:00 UTC is already the next day there', () => {
    expect(shanghaiDate(at('2026-11-23T15:59:59Z'))).toBe('2026-11-23')
    expect(shanghaiDate(at('2026-11-23T16:00:00Z'))).toBe('2026-11-24')
  })

  it('today, yesterday (across a month end) and this week from Monday', () => {
    const now = at('2026-12-01T02:00:00Z') // Tuesday 1 December, 10:00 in Shanghai
    expect(periodRange('today', now)).toEqual({ from: '2026-12-01', to: '2026-12-01' })
    expect(periodRange('yesterday', now)).toEqual({ from: '2026-11-30', to: '2026-11-30' })
    expect(periodRange('week', now)).toEqual({ from: '2026-11-30', to: '2026-12-01' })
    const sunday = at('2026-11-29T12:00:00Z')
    expect(periodRange('week', sunday)).toEqual({ from: '2026-11-23', to: '2026-11-29' })
    const monday = at('2026-11-23T01:00:00Z')
    expect(periodRange('week', monday)).toEqual({ from: '2026-11-23', to: '2026-11-23' })
  })

  it('custom ranges come back in order; no range means today', () => {
    const now = at('2026-11-23T02:00:00Z')
    expect(periodRange('custom', now, { from: '2026-11-20', to: '2026-11-02' })).toEqual({ from: '2026-11-02', to: '2026-11-20' })
    expect(periodRange('custom', now)).toEqual({ from: '2026-11-23', to: '2026-11-23' })
  })

  it('date arithmetic and weekdays', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29')
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31')
    expect(weekdayIndex('2026-11-23')).toBe(0) // Monday
    expect(weekdayIndex('2026-11-29')).toBe(6)
  })

  it('shows instants in Shanghai time, with the date when not today', () => {
    expect(shanghaiTime('2026-11-23T03:05:00Z', '2026-11-23')).toBe('11:05')
    expect(shanghaiTime('2026-11-22T03:05:00Z', '2026-11-23')).toBe('11-22 11:05')
    expect(shanghaiTime(null)).toBe('—')
  })

  it('ages in minutes, hours, then days', () => {
    const now = at('2026-11-23T12:00:00Z')
    expect(ageParts('2026-11-23T11:55:30Z', now)).toEqual({ n: 4, unit: 'min' })
    expect(ageParts('2026-11-23T09:00:00Z', now)).toEqual({ n: 3, unit: 'h' })
    expect(ageParts('2026-11-20T12:00:00Z', now)).toEqual({ n: 3, unit: 'd' })
    expect(ageParts(null, now)).toBeNull()
  })
})
