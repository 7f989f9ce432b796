import { describe, expect, it } from 'vitest'
import gcoord from 'gcoord'
import { displayBounds, toDisplayCrs } from '@/components/map/display'
import { square } from '../../mockServer'

describe('toDisplayCrs', () => {
  const features = [square(1, 'grid', 115.55, 38.1), square(2, 'zone', 115.6, 38.2)]

  it('shifts every vertex to GCJ-02 for a GCJ-02 basemap and leaves the WGS-84 data untouched', () => {
    const original = JSON.stringify(features)
    const out = toDisplayCrs(features, 'gcj02')
    expect(JSON.stringify(features)).toBe(original)
    expect(out.type).toBe('FeatureCollection')
    const [lon, lat] = (out.features[0].geometry!.coordinates as number[][][][])[0][0][0]
    const [elon, elat] = gcoord.transform([115.55, 38.1], gcoord.WGS84, gcoord.GCJ02)
    expect(lon).toBeCloseTo(elon, 9)
    expect(lat).toBeCloseTo(elat, 9)
    // GCJ-02 offsets on the North China Plain are hundreds of metres, not zero
    expect(Math.abs(lon - 115.55) + Math.abs(lat - 38.1)).toBeGreaterThan(0.001)
    expect(out.features[1].properties.kind).toBe('zone')
  })

  it('returns an equal copy for WGS-84 and drops features without geometry', () => {
    const out = toDisplayCrs([...features, { ...features[0], id: 3, geometry: null }], 'wgs84')
    expect(out.features).toHaveLength(2)
    expect(out.features[0]).toEqual(features[0])
    expect(out.features[0]).not.toBe(features[0])
  })

  it('handles an empty list', () => {
    expect(toDisplayCrs([], 'gcj02')).toEqual({ type: 'FeatureCollection', features: [] })
  })
})

describe('displayBounds', () => {
  it('spans every vertex of polygons and multipolygons, as [lat, lon] corners', () => {
    const a = square(1, 'grid', 115.55, 38.1) // a 0.01° square from its south-west corner
    const b = square(2, 'zone', 115.6, 38.2)
    expect(displayBounds([a, b])).toEqual([[38.1, 115.55], [38.21, 115.61]].map(([lat, lon]) => [expect.closeTo(lat, 9), expect.closeTo(lon, 9)]))
  })

  it('is null for no features and for features without geometry', () => {
    expect(displayBounds([])).toBeNull()
    expect(displayBounds([{ ...square(1, 'grid', 115.55, 38.1), geometry: null } as never])).toBeNull()
  })
})
