// Display-only coordinate conversion: data stays WGS-84; a GCJ-02 basemap (AMap, Tencent) gets shifted copies.
import gcoord from 'gcoord'
import type { AreaFeature } from '@/api/types'
import { geometryBbox, type Bbox } from '@/lib/tiles'

export interface DisplayCollection {
  type: 'FeatureCollection'
  features: AreaFeature[]
}

/** Returns a new FeatureCollection in the basemap's system; the input is never modified. */
export function toDisplayCrs(features: readonly AreaFeature[], crs: 'wgs84' | 'gcj02'): DisplayCollection {
  const collection: DisplayCollection = {
    type: 'FeatureCollection',
    features: features.filter((f) => f.geometry).map((f) => structuredCloneSafe(f)),
  }
  if (crs !== 'gcj02' || collection.features.length === 0) return collection
  // gcoord transforms GeoJSON in place, which is why we work on the copy.
  return gcoord.transform(collection as never, gcoord.WGS84, gcoord.GCJ02) as unknown as DisplayCollection
}

function structuredCloneSafe<T>(value: T): T {
  return typeof structuredClone === 'function' ? structuredClone(value) : (JSON.parse(JSON.stringify(value)) as T)
}

/** South-west and north-east corners ([lat, lon], as Leaflet takes them) of the features' coordinates; null when they
 * have none. Computed from the data, so a map can take its view before it draws any polygon. */
export function displayBounds(features: readonly AreaFeature[]): [[number, number], [number, number]] | null {
  let box: Bbox | null = null
  for (const f of features) {
    const b = geometryBbox(f.geometry)
    if (b) box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]), Math.max(box[2], b[2]), Math.max(box[3], b[3])] : b
  }
  return box ? [[box[1], box[0]], [box[3], box[2]]] : null
}
