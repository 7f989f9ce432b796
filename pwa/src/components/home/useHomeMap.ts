// What every home map needs: the user's areas, the basemap and the connectivity state.
import { computed } from 'vue'
import type { AreaKind } from '@/api/types'
import { areas } from '@/composables/useSession'
import { resolvedBasemap } from '@/composables/useBasemap'
import { online } from '@/composables/useConnectivity'

export function useHomeMap() {
  const byKind = (kind: AreaKind) =>
    computed(() =>
      areas.value
        .filter((f) => f.properties.kind === kind)
        .sort((a, b) => (a.properties.code ?? a.properties.name).localeCompare(b.properties.code ?? b.properties.name)),
    )
  return { areas, basemap: resolvedBasemap, online, byKind }
}
