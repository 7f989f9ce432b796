import { afterEach, describe, expect, it, vi } from 'vitest'
import { MockServer } from '../mockServer'
import { loadApp, uniqueDbName } from '../appHarness'

afterEach(() => vi.unstubAllGlobals())

describe('i18n', () => {
  it('switches our texts, Vant’s texts, <html lang> and Accept-Language, and persists the choice', async () => {
    const server = new MockServer()
    const name = uniqueDbName()
    await loadApp(server, name)
    const i18n = await import('@/i18n')
    const { Locale } = await import('vant') // the same module instance the app uses after loadApp's reset
    const { switchLocale, restoreLocale } = await import('@/composables/useLocale')
    const { login } = await import('@/composables/useSession')
    await restoreLocale()
    expect(i18n.t('login.submit')).toBe('登录')
    expect(i18n.t('home.myGrids', { n: 3 })).toBe('我的网格（3）')
    expect(Locale.messages().confirm).toBe('确认')

    await switchLocale('en')
    expect(i18n.t('login.submit')).toBe('Log in')
    expect(i18n.t('home.myGrids', { n: 3 })).toBe('My grids (3)')
    expect(Locale.messages().confirm).toBe('Confirm')
    expect(document.documentElement.lang).toBe('en')

    await expect(login('officer1', 'wrong')).rejects.toMatchObject({ code: 'invalid_credentials', message: 'en:invalid_credentials' })
    expect(server.calls.at(-1)?.headers['Accept-Language']).toBe('en')

    // reload: the choice comes back from IndexedDB
    await loadApp(server, name)
    const again = await import('@/i18n')
    const loc = await import('@/composables/useLocale')
    await loc.restoreLocale()
    expect(again.locale.value).toBe('en')
    expect(again.t('nav.me')).toBe('Me')
  })

  it('falls back to Chinese for a key with no English text', async () => {
    const i18n = await import('@/i18n')
    i18n.setLocale('en')
    expect(i18n.t('no.such.key')).toBe('no.such.key')
    expect(i18n.t('app.name')).toBe('GridPatrol')
    i18n.setLocale('zh-CN')
  })
})
