// A tiny i18n: one reactive locale, `t('a.b', {n: 1})` lookups with Chinese fallback, and Vant's locale kept in step.
import { ref } from 'vue'
import { Locale } from 'vant'
import vantZhCN from 'vant/es/locale/lang/zh-CN'
import vantEnUS from 'vant/es/locale/lang/en-US'
import { zhCN, en } from './messages'

export type LocaleCode = 'zh-CN' | 'en'
export const LOCALES: LocaleCode[] = ['zh-CN', 'en']

const tables: Record<LocaleCode, unknown> = { 'zh-CN': zhCN, en }
export const locale = ref<LocaleCode>('zh-CN')

function lookup(table: unknown, key: string): string | undefined {
  let node: unknown = table
  for (const part of key.split('.')) {
    if (node && typeof node === 'object' && part in (node as Record<string, unknown>)) {
      node = (node as Record<string, unknown>)[part]
    } else return undefined
  }
  return typeof node === 'string' ? node : undefined
}

export function t(key: string, params?: Record<string, string | number>): string {
  const text = lookup(tables[locale.value], key) ?? lookup(zhCN, key) ?? key
  if (!params) return text
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
}

export function normalizeLocale(value: string | null | undefined): LocaleCode {
  return value && value.toLowerCase().startsWith('en') ? 'en' : 'zh-CN'
}

/** Switch the UI language: our strings, Vant's strings and <html lang>; persisting is the caller's job. */
export function setLocale(code: LocaleCode): void {
  locale.value = code
  Locale.use(code === 'en' ? 'en-US' : 'zh-CN', code === 'en' ? vantEnUS : vantZhCN)
  if (typeof document !== 'undefined') document.documentElement.lang = code
}

/** The value sent as Accept-Language, so server messages come back in the UI language. */
export function acceptLanguage(): string {
  return locale.value
}

export function formatDateTime(ms: number | null | undefined): string {
  if (!ms) return t('offline.never')
  const d = new Date(ms)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}
