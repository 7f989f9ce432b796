// The basemap to draw: local settings (IndexedDB) over the server config; none while offline.
import { computed, ref } from 'vue'
import { resolveBasemap } from '@/components/map/basemap'
import { DEFAULT_BASEMAP_SETTINGS, loadBasemapSettings, saveBasemapSettings, type BasemapSettings } from '@/data/settings'
import type { Result } from '@/data/db'
import { session } from './useSession'

export const basemapSettings = ref<BasemapSettings>({ ...DEFAULT_BASEMAP_SETTINGS })

export async function restoreBasemapSettings(): Promise<Result<BasemapSettings>> {
  const r = await loadBasemapSettings()
  if (r.ok) basemapSettings.value = r.value
  return r
}

export async function updateBasemapSettings(next: BasemapSettings): Promise<Result<void>> {
  const r = await saveBasemapSettings(next)
  if (r.ok) basemapSettings.value = next
  return r
}

export const resolvedBasemap = computed(() => resolveBasemap(session.serverConfig, basemapSettings.value))
