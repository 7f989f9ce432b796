// The case categories, kept on the phone so a report can be made with no network.
import { listCategories, type CaseCategory } from '@/api/cases'
import { getKv, setKv } from './kv'

const KEY = 'caseCategories'

/** The categories kept here, refreshed from the server when it answers. */
export async function loadCategories(): Promise<CaseCategory[]> {
  const kept = await getKv<CaseCategory[]>(KEY)
  const local = kept.ok ? kept.value ?? [] : []
  try {
    const fresh = await listCategories()
    await setKv(KEY, fresh)
    return fresh
  } catch {
    return local
  }
}

/** Categories whose name, field or code contains every typed word. */
export function searchCategories(all: CaseCategory[], text: string): CaseCategory[] {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean)
  if (!words.length) return all
  return all.filter((c) => {
    const hay = `${c.name} ${c.field} ${c.code}`.toLowerCase()
    return words.every((w) => hay.includes(w))
  })
}
