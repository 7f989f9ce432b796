// Service worker registration and the update prompt; does nothing where there is no service worker
// (WeChat/DingTalk webviews), where IndexedDB alone keeps the data.
import { ref } from 'vue'
import { showToast } from 'vant'
import { t } from '@/i18n'
import { useDirtyForms } from './useDirtyForms'

export const needRefresh = ref(false)
export const swSupported = typeof navigator !== 'undefined' && 'serviceWorker' in navigator
let updateSW: ((reload?: boolean) => Promise<void>) | null = null

type RegisterSW = (typeof import('virtual:pwa-register'))['registerSW']

/** `register` is injectable for tests; the app uses vite-plugin-pwa's registerSW. */
export async function registerServiceWorker(register?: RegisterSW): Promise<void> {
  if (!register && (!swSupported || import.meta.env.DEV)) return
  const registerSW = register ?? (await import('virtual:pwa-register')).registerSW
  updateSW = registerSW({
    immediate: true,
    onNeedRefresh() {
      needRefresh.value = true
    },
    onRegisterError(error: unknown) {
      console.warn('service worker registration failed', error)
    },
  })
}

/** The user tapped the prompt: reload into the new version unless a form holds unsaved input. */
export async function applyUpdate(): Promise<boolean> {
  const { anyDirty } = useDirtyForms()
  if (anyDirty.value) {
    showToast({ message: t('update.finishForm'), duration: 4000 })
    return false
  }
  if (!updateSW) return false
  showToast({ message: t('update.updating'), type: 'loading', duration: 0 })
  await updateSW(true)
  return true
}
