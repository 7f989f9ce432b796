// Pure rules of the patrol recorder: when a fix starts a new line part, which fixes the track keeps, when to cut
// a batch, and what to say about a gap. No browser APIs here, so the rules are unit-tested as they run.
import type { LonLat } from '@/lib/coverage'

/** More than this without a fix is a gap: shown on screen, and the line breaks there. */
export const GAP_MS = 30_000
/** The server drops fixes worse than this (geo.tracks TrackRules.max_accuracy_m); so does the local track. */
export const MAX_ACCURACY_M = 50
/** A step faster than this is a GPS spike (TrackRules.max_speed_mps). */
export const MAX_SPEED_MPS = 50
/** A longer step is never drawn as a line (TrackRules.max_gap_m). */
export const MAX_STEP_M = 500
/**
 * Batches: online, the first goes FIRST_BATCH_MS after the first fix (a leader's live view shows the officer at
 * once), then one every BATCH_INTERVAL_MS. Offline they are cut only every OFFLINE_BATCH_AGE_MS (or at
 * MAX_BATCH_FIXES), so an afternoon without signal is a handful of bounded batches, not hundreds.
 */
export const FIRST_BATCH_MS = 3_000
export const BATCH_INTERVAL_MS = 10_000
export const OFFLINE_BATCH_AGE_MS = 5 * 60_000
/** No batch is larger (data/patrols.ts MAX_BATCH_FIXES cuts a longer wait into several). */
export const BATCH_FIXES = 500

const EARTH_RADIUS_M = 6_371_008.8

export function haversineM(a: LonLat, b: LonLat): number {
  const rad = Math.PI / 180
  const dLat = (b[1] - a[1]) * rad
  const dLon = (b[0] - a[0]) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** The part of a new fix: the previous fix's part, or the next one after a gap. */
export function partFor(previous: { t: number; part: number } | null | undefined, t: number): number {
  if (!previous) return 0
  return t - previous.t > GAP_MS ? previous.part + 1 : previous.part
}

export interface TrackFix {
  t: number
  lon: number
  lat: number
  accuracyM: number
  part: number
}

export interface TrackStep {
  kept: boolean
  point: LonLat
  /** the kept fix starts a new drawn line */
  newPart: boolean
  /** the covered segment from the previous kept fix, or null when it starts a line */
  segment: [LonLat, LonLat] | null
}

/**
 * The kept track, built fix by fix: fixes the server would drop for accuracy or as spikes are left out; a new
 * line starts after a gap (part change) or a jump longer than MAX_STEP_M. Distance counts only drawn steps.
 */
export class TrackBuilder {
  readonly parts: LonLat[][] = []
  distanceM = 0
  keptCount = 0
  private last: TrackFix | null = null

  add(fix: TrackFix): TrackStep {
    const point: LonLat = [fix.lon, fix.lat]
    if (!(fix.accuracyM <= MAX_ACCURACY_M)) return { kept: false, point, newPart: false, segment: null }
    const prev = this.last
    let newPart = prev === null || fix.part !== prev.part
    if (prev && !newPart) {
      const stepM = haversineM([prev.lon, prev.lat], point)
      const dtS = (fix.t - prev.t) / 1000
      if (dtS > 0 && stepM / dtS > MAX_SPEED_MPS) return { kept: false, point, newPart: false, segment: null }
      if (stepM > MAX_STEP_M) newPart = true
      else {
        this.distanceM += stepM
        this.parts[this.parts.length - 1].push(point)
      }
    }
    if (newPart) this.parts.push([point])
    this.last = fix
    this.keptCount++
    const segment: [LonLat, LonLat] | null = newPart ? null : [[prev!.lon, prev!.lat], point]
    return { kept: true, point, newPart, segment }
  }

  get lastKept(): LonLat | null {
    return this.last ? [this.last.lon, this.last.lat] : null
  }
}

export interface CutInputs {
  /** fixes not yet in a batch, and the time of the oldest */
  uncut: number
  oldestUncutT: number | null
  now: number
  /** whether the server was reachable at the last try */
  online: boolean
  /** a batch of this patrol was cut before */
  everCut: boolean
}

/** Whether the fixes not yet in a batch should be cut (and sent) now. */
export function shouldCut(s: CutInputs): boolean {
  if (s.uncut <= 0) return false
  if (s.uncut >= BATCH_FIXES) return true
  if (s.oldestUncutT === null) return false
  const wait = !s.online ? OFFLINE_BATCH_AGE_MS : s.everCut ? BATCH_INTERVAL_MS : FIRST_BATCH_MS
  return s.now - s.oldestUncutT >= wait
}

export type GapReason = 'unsupported' | 'denied' | 'unavailable' | 'timeout' | 'hidden' | 'closed' | 'waiting'

export interface GapInputs {
  now: number
  /** time of the last stored fix, or null before the first */
  lastFixAt: number | null
  startedAt: number
  /** when this page started recording (after a reload: the reload) */
  recordingSince: number
  geolocationSupported: boolean
  /** last geolocation error (PositionError code 1/2/3) and when it came */
  lastError: { code: number; at: number } | null
  /** when the page was last hidden, if it was */
  hiddenAt: number | null
}

export interface GapInfo {
  reason: GapReason
  /** start of the gap (ms): the last fix, or the start */
  since: number
  seconds: number
}

/**
 * The current gap, or null while fixes arrive. Denied and unsupported show at once (nothing will come);
 * anything else after GAP_MS without a fix. The reason is the most specific thing we know.
 */
export function currentGap(s: GapInputs): GapInfo | null {
  const since = s.lastFixAt ?? s.startedAt
  const seconds = Math.max(0, Math.round((s.now - since) / 1000))
  if (!s.geolocationSupported) return { reason: 'unsupported', since, seconds }
  const err = s.lastError && s.lastError.at >= since ? s.lastError : null
  if (err?.code === 1) return { reason: 'denied', since, seconds }
  if (s.now - since <= GAP_MS) return null
  let reason: GapReason = 'waiting'
  if (s.hiddenAt !== null && s.hiddenAt >= since) reason = 'hidden'
  else if (s.recordingSince - since > GAP_MS) reason = 'closed'
  else if (err?.code === 2) reason = 'unavailable'
  else if (err?.code === 3) reason = 'timeout'
  return { reason, since, seconds }
}

/** 3725 s -> "01:02:05" */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000))
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`
}

/** Coverage as shown everywhere (page, test): whole percent. */
export function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`
}
