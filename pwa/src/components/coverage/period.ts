// Reporting periods as local Asia/Shanghai dates (the server's days): today, yesterday, this week (from Monday),
// or a custom range. China has no daylight saving time, so local = UTC + 8 h all year.

export type PeriodKind = 'today' | 'yesterday' | 'week' | 'custom'

export interface DateRange {
  from: string
  to: string
}

const SHANGHAI_OFFSET_MS = 8 * 3600 * 1000
const DAY_MS = 86_400_000

/** The local date in Shanghai at instant `nowMs`, "YYYY-MM-DD". */
export function shanghaiDate(nowMs: number = Date.now()): string {
  return new Date(nowMs + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10)
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** 0 = Monday … 6 = Sunday */
export function weekdayIndex(date: string): number {
  return (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7
}

export function periodRange(kind: PeriodKind, nowMs: number = Date.now(), custom?: DateRange): DateRange {
  const today = shanghaiDate(nowMs)
  switch (kind) {
    case 'today':
      return { from: today, to: today }
    case 'yesterday': {
      const y = addDays(today, -1)
      return { from: y, to: y }
    }
    case 'week':
      return { from: addDays(today, -weekdayIndex(today)), to: today }
    case 'custom': {
      if (!custom) return { from: today, to: today }
      return custom.from <= custom.to ? { ...custom } : { from: custom.to, to: custom.from }
    }
  }
}

/** A JS Date (from a date picker, in the device's zone) as the calendar date the user picked. */
export function pickedDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`
}

/** "2026-11-23T03:05:00Z" -> "11:05" (Shanghai time); dates other than `today` get "11-22 11:05". */
export function shanghaiTime(iso: string | null | undefined, today: string = shanghaiDate()): string {
  if (!iso) return '—'
  const ms = Date.parse(iso)
  if (!Number.isFinite(ms)) return '—'
  const local = new Date(ms + SHANGHAI_OFFSET_MS).toISOString()
  const date = local.slice(0, 10)
  const hm = local.slice(11, 16)
  return date === today ? hm : `${date.slice(5)} ${hm}`
}

/** Whole minutes (or hours, days) since an instant, for "5 分钟前"; null for no instant. */
export function ageParts(iso: string | null | undefined, nowMs: number = Date.now()): { n: number; unit: 'min' | 'h' | 'd' } | null {
  if (!iso) return null
  const ms = Date.parse(iso)
  if (!Number.isFinite(ms)) return null
  const min = Math.max(0, Math.floor((nowMs - ms) / 60_000))
  if (min < 60) return { n: min, unit: 'min' }
  if (min < 48 * 60) return { n: Math.floor(min / 60), unit: 'h' }
  return { n: Math.floor(min / 1440), unit: 'd' }
}
