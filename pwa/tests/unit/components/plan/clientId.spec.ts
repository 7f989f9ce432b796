// Task client ids: RFC 4122 v4 even without crypto.randomUUID (plain-http intranets); the same form keeps its id.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { newClientId, sameBody } from '@/components/plan/clientId'

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newClientId', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('is a v4 UUID, different every time', () => {
    const ids = new Set(Array.from({ length: 50 }, newClientId))
    expect(ids.size).toBe(50)
    for (const id of ids) expect(id).toMatch(UUID_V4)
  })

  it('still makes v4 UUIDs where randomUUID is missing (not a secure context)', () => {
    vi.stubGlobal('crypto', { getRandomValues: (a: Uint8Array) => a.fill(0xff) })
    expect(newClientId()).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff')
  })
})

describe('sameBody', () => {
  const body = { officer_id: 7, date: '2026-11-23', grid_ids: [1, 2], coverage_target: 0.8 }
  it('ignores key order but not values', () => {
    expect(sameBody(body, { coverage_target: 0.8, grid_ids: [1, 2], date: '2026-11-23', officer_id: 7 })).toBe(true)
    expect(sameBody(body, { ...body, grid_ids: [1, 2, 3] })).toBe(false)
    expect(sameBody(body, { ...body, officer_id: 8 })).toBe(false)
  })
})
