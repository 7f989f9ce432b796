// A sync that brings the areas the device already shows must not replace them (the map would be drawn again).
import { describe, expect, it } from 'vitest'
import type { AreaFeature } from '@/api/types'
import { sameFeatures } from '@/composables/useSession'

const feature = (id: number, name: string): AreaFeature =>
  ({
    type: 'Feature',
    id,
    geometry: { type: 'Polygon', coordinates: [[[115.5, 38.1], [115.51, 38.1], [115.51, 38.11], [115.5, 38.1]]] },
    properties: { kind: 'grid', name, code: null, parent_id: 1 },
  }) as unknown as AreaFeature

describe('sameFeatures', () => {
  it('is true for the same features in another order', () => {
    expect(sameFeatures([feature(1, 'a'), feature(2, 'b')], [feature(2, 'b'), feature(1, 'a')])).toBe(true)
  })
  it('is false when a name, a feature or the count changed', () => {
    expect(sameFeatures([feature(1, 'a'), feature(2, 'b')], [feature(1, 'a'), feature(2, 'B')])).toBe(false)
    expect(sameFeatures([feature(1, 'a'), feature(2, 'b')], [feature(1, 'a'), feature(3, 'b')])).toBe(false)
    expect(sameFeatures([feature(1, 'a')], [feature(1, 'a'), feature(2, 'b')])).toBe(false)
  })
})
