// Leaflet with its CSS and default marker images bundled (Leaflet otherwise guesses image URLs from the CSS path).
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'
import iconUrl from 'leaflet/dist/images/marker-icon.png'
import iconRetinaUrl from 'leaflet/dist/images/marker-icon-2x.png'
import shadowUrl from 'leaflet/dist/images/marker-shadow.png'

L.Icon.Default.mergeOptions({ iconUrl, iconRetinaUrl, shadowUrl })

export default L

/**
 * Remove a map for good. Leaflet 1.9 leaves a 250 ms timer behind a zoom animation that map.remove() does not
 * cancel; it would then throw "reading '_leaflet_pos'" when the page is left mid-zoom. The timer does nothing once
 * _animatingZoom is false.
 */
export function removeMap(map: L.Map | null): void {
  if (!map) return
  ;(map as unknown as { _animatingZoom: boolean })._animatingZoom = false
  map.remove()
}
