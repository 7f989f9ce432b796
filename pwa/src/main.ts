// Start-up: language and user from IndexedDB first (so it works offline), then mount, then sync in background.
import { createApp } from 'vue'
import { installVant } from './vant'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { restoreLocale } from './composables/useLocale'
import { restore, session, setErrorSink, sync } from './composables/useSession'
import { restoreBasemapSettings } from './composables/useBasemap'
import { startConnectivity } from './composables/useConnectivity'
import { notifyError } from './composables/useNotify'
import { registerServiceWorker } from './composables/useSwUpdate'
import { installOutbox, setOutboxErrorSink } from './composables/useOutbox'
import { requestPersistence } from './data/storage'
import { afterPaint } from './lib/afterPaint'

async function start() {
  setErrorSink(notifyError)
  setOutboxErrorSink(notifyError)
  const storageProblems = []
  const loc = await restoreLocale()
  if (!loc.ok) storageProblems.push(loc.error)
  const bm = await restoreBasemapSettings()
  if (!bm.ok) storageProblems.push(bm.error)
  await restore()

  const app = createApp(App)
  installVant(app)
  app.use(router)
  await router.isReady().catch(() => undefined)
  app.mount('#app')
  for (const e of storageProblems) notifyError(e)

  startConnectivity(() => void sync())
  installOutbox() // drains at once, then on online, visible, timer, enqueue and the button
  void requestPersistence()
  void afterPaint().then(() => registerServiceWorker()) // its code and the worker's downloads come after the first screen
  if (session.userId !== null) void sync()
}

void start()
