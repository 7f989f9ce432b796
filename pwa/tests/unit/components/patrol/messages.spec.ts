// Every patrol text exists in Chinese and English, with the same placeholders.
import { describe, expect, it } from 'vitest'
import { en, zhCN } from '@/i18n/messages'

function leaves(node: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (v && typeof v === 'object') Object.assign(out, leaves(v, `${prefix}${k}.`))
    else out[`${prefix}${k}`] = String(v)
  }
  return out
}

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()

describe('patrol messages', () => {
  it('has the same keys and placeholders in zh-CN and English', () => {
    const zh = leaves(zhCN.patrol)
    const english = leaves(en.patrol)
    expect(Object.keys(english).sort()).toEqual(Object.keys(zh).sort())
    for (const key of Object.keys(zh)) expect(placeholders(english[key]), key).toEqual(placeholders(zh[key]))
  })
})
