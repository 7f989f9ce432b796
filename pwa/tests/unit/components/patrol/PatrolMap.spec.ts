// The map draws each unbroken part as its own line (never a line across a gap), shifted on a GCJ-02 basemap.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import gcoord from 'gcoord'
import type { ResolvedBasemap } from '@/components/map/basemap'
import type { LonLat } from '@/lib/coverage'

// jsdom has no SVG geometry; Leaflet only checks that this exists before choosing its SVG renderer.
;(SVGSVGElement.prototype as unknown as { createSVGRect: () => object }).createSVGRect = () => ({})

const gcj: ResolvedBasemap = {
  name: 'amap',
  crs: 'gcj02',
  layers: [{ url: 'https://tiles.invalid/{z}/{x}/{y}.png', attribution: '', subdomains: 'abc', maxZoom: 18 }],
}

describe('PatrolMap', () => {
  it('draws one line per part, appends new fixes, and shifts to GCJ-02 only for a GCJ-02 basemap online', async () => {
    const { default: PatrolMap } = await import('@/components/patrol/PatrolMap.vue')
    const { trackEpoch, trackParts, trackVersion } = await import('@/components/patrol/usePatrol')
    const a: LonLat[] = [[115.505, 38.102], [115.505, 38.1021]]
    const b: LonLat[] = [[115.506, 38.103]]
    trackParts.value = [a, b]
    trackEpoch.value++
    const wrapper = mount(PatrolMap, {
      props: { grids: [], basemap: gcj, online: true, currentGridId: null },
      attachTo: document.body,
    })
    await nextTick()
    const map = wrapper.vm as unknown as { drawnLines(): { lat: number; lng: number }[][] }
    expect(map.drawnLines().map((l) => l.length)).toEqual([2, 1])
    const [lon, lat] = gcoord.transform([115.505, 38.102], gcoord.WGS84, gcoord.GCJ02) as [number, number]
    expect(map.drawnLines()[0][0].lng).toBeCloseTo(lon, 9)
    expect(map.drawnLines()[0][0].lat).toBeCloseTo(lat, 9)
    expect(Math.abs(lon - 115.505)).toBeGreaterThan(1e-3) // the shift is real (hundreds of metres)

    b.push([115.5061, 38.103]) // a new fix in the second part
    trackVersion.value++
    await nextTick()
    expect(map.drawnLines().map((l) => l.length)).toEqual([2, 2])

    await wrapper.setProps({ online: false }) // offline: no tiles, so no shift either
    await nextTick()
    expect(map.drawnLines()[0][0].lng).toBeCloseTo(115.505, 9)
    wrapper.unmount()
  })
})
