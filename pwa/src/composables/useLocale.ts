// The UI language: restored from IndexedDB at start, switched and saved from the "me" page.
import { getKv, setKv } from '@/data/kv'
import type { Result } from '@/data/db'
import { locale, normalizeLocale, setLocale, type LocaleCode } from '@/i18n'

export async function restoreLocale(): Promise<Result<LocaleCode>> {
  const r = await getKv<string>('locale')
  const code = normalizeLocale(r.ok ? r.value : null)
  setLocale(code)
  return r.ok ? { ok: true, value: code } : r
}

export async function switchLocale(code: LocaleCode): Promise<Result<void>> {
  setLocale(code)
  return setKv('locale', code)
}

export { locale }
