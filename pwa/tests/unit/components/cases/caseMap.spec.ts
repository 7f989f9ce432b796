// The case map's rules: a colour for every status, filters as the map endpoint's query, the boxes that decide when
// to ask again, and the count in view.
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CaseMapFeature } from '@/api/cases'
import {
  bboxContains, countIn, DEFAULT_FILTER, OVERDUE_COLOR, padBbox, queryOf, sameFilter, statusColor, statusGroup,
  STATUS_GROUPS,
} from '@/components/cases/caseMap'

const ALL_STATUSES = ['reported', 'accepted', 'rejected', 'dispatched', 'whistled', 'acknowledged', 'handled',
  'verified', 'closed', 'parked', 'merged'] // backend/models/cases.py CASE_STATUSES

function feature(id: number, lon: number, lat: number, overdue: string[] = []): CaseMapFeature {
  return { type: 'Feature', id, geometry: { type: 'Point', coordinates: [lon, lat] },
           properties: { status: 'reported', category: 'SZSS-01', reported_at: '2026-11-23T03:05:00Z', overdue, squad_id: 1 } }
}

afterEach(() => vi.unstubAllGlobals())

describe('status colours', () => {
  it('puts every status of the server in exactly one group, and no group takes the overdue red', () => {
    for (const s of ALL_STATUSES) expect(STATUS_GROUPS.filter((g) => (g.statuses as readonly string[]).includes(s))).toHaveLength(1)
    expect(new Set(STATUS_GROUPS.map((g) => g.color)).size).toBe(STATUS_GROUPS.length)
    expect(STATUS_GROUPS.map((g) => g.color)).not.toContain(OVERDUE_COLOR)
    expect(statusGroup('closed')).toBe('ended')
    expect(statusColor('handled')).toBe(statusColor('verified'))
  })

  it('draws a status it does not know as "in hand" rather than failing', () => {
    expect(statusGroup('something_new')).toBe('working')
  })
})

describe('queryOf', () => {
  it('sends only what is chosen: open by default, overdue only when asked', () => {
    expect(queryOf(DEFAULT_FILTER)).toEqual({ open: true, overdue: undefined, category: undefined, source: undefined, bbox: undefined })
    expect(queryOf({ state: 'closed', overdueOnly: true, category: 'SZSS-01', source: 'hotline' }, [1, 2, 3, 4]))
      .toEqual({ open: false, overdue: true, category: 'SZSS-01', source: 'hotline', bbox: [1, 2, 3, 4] })
    expect(queryOf({ ...DEFAULT_FILTER, state: 'all' }).open).toBeUndefined()
    expect(sameFilter(DEFAULT_FILTER, { ...DEFAULT_FILTER })).toBe(true)
    expect(sameFilter(DEFAULT_FILTER, { ...DEFAULT_FILTER, source: 'patrol' })).toBe(false)
  })

  it('reaches GET /cases/map as query parameters the server reads', async () => {
    const urls: string[] = []
    vi.stubGlobal('fetch', async (url: string) => {
      urls.push(url)
      return new Response(JSON.stringify({ type: 'FeatureCollection', features: [], truncated: false }),
                          { headers: { 'Content-Type': 'application/json' } })
    })
    const { caseMap } = await import('@/api/cases')
    await caseMap(queryOf({ state: 'open', overdueOnly: true, category: 'SZSS-01', source: null }, [115.5, 38, 115.6, 38.2]))
    const params = new URL(urls[0], 'http://x').searchParams
    expect(new URL(urls[0], 'http://x').pathname).toBe('/api/v1/cases/map')
    expect(Object.fromEntries(params)).toEqual({
      open: 'true', overdue: 'true', category: 'SZSS-01', bbox: '115.500000,38.000000,115.600000,38.200000',
    })
  })
})

describe('boxes', () => {
  it('pads by a share of the size on each side and stays within the degrees the server accepts', () => {
    expect(padBbox([115, 38, 116, 39], 0.5)).toEqual([114.5, 37.5, 116.5, 39.5])
    expect(padBbox([-179.5, -89.5, 179.5, 89.5], 0.5)).toEqual([-180, -90, 180, 90])
  })

  it('tells whether a view lies inside the box last loaded', () => {
    const loaded = padBbox([115, 38, 116, 39], 0.5)
    expect(bboxContains(loaded, [115.2, 38.2, 116.2, 39.2])).toBe(true) // a small pan
    expect(bboxContains(loaded, [114, 38, 115, 39])).toBe(false) // a pan past the padding
    expect(bboxContains(loaded, [113, 36, 118, 41])).toBe(false) // zoomed out
  })
})

describe('countIn', () => {
  it('counts the cases in view and the overdue among them, edges included', () => {
    const cases = [feature(1, 115.5, 38.1), feature(2, 115.6, 38.2, ['respond']), feature(3, 116, 39, ['handle']),
                   feature(4, 115.55, 38.15, ['respond', 'handle'])]
    expect(countIn(cases, [115.5, 38.1, 115.6, 38.2])).toEqual({ total: 3, overdue: 2 })
    expect(countIn(cases, [0, 0, 1, 1])).toEqual({ total: 0, overdue: 0 })
    expect(countIn([], [115, 38, 116, 39])).toEqual({ total: 0, overdue: 0 })
  })
})
