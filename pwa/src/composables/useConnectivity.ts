// Online/offline as the app sees it: a failed fetch means offline even when navigator.onLine says otherwise.
import { ref } from 'vue'
import { onConnectivity } from '@/api/http'

export const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)

const PROBE_INTERVAL_MS = 30_000
let probeTimer: ReturnType<typeof setInterval> | null = null
let started = false
let backOnline: () => void = () => {}

/** Start listening; `onBackOnline` runs when the server becomes reachable again (the app re-syncs then). */
export function startConnectivity(onBackOnline: () => void): void {
  if (started) return
  started = true
  backOnline = onBackOnline
  onConnectivity((reachable) => {
    const was = online.value
    online.value = reachable
    if (reachable && !was) onBackOnline()
  })
  window.addEventListener('offline', () => {
    online.value = false
  })
  // The browser thinks it is back: check by syncing; success flips `online` via onConnectivity.
  window.addEventListener('online', () => onBackOnline())
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && !online.value) probe()
  })
  probeTimer = setInterval(() => {
    if (!online.value) probe()
  }, PROBE_INTERVAL_MS)
}

async function probe() {
  try {
    const r = await fetch('/api/health', { cache: 'no-store' })
    if (r.ok || r.status < 500) {
      if (!online.value) {
        online.value = true
        backOnline()
      }
    }
  } catch {
    online.value = false
  }
}

export function stopConnectivity(): void {
  if (probeTimer) clearInterval(probeTimer)
  probeTimer = null
}
