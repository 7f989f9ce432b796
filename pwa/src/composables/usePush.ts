// Web Push on this browser: on when the user asks, with what happened in words when it cannot be. Chrome's push
// service (FCM) is not reachable from mainland China, so subscribing often fails there: the inbox (待办) and the
// work notices the server sends (WeCom, DingTalk, SMS) stay the path that always works, and the message says so.
import { ref } from 'vue'
import { deletePushSubscription, pushKey, savePushSubscription } from '@/api/push'
import { deleteKv, getKv, setKv } from '@/data/kv'

export type PushState = 'unsupported' | 'denied' | 'off' | 'on' | 'busy'
export type PushProblem = 'unsupported' | 'denied' | 'unreachable' | 'offline' | null

export const pushState = ref<PushState>('off')
export const pushProblem = ref<PushProblem>(null)

const kvKey = (userId: number) => `push:${userId}`

function supported(): boolean {
  return typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window &&
    'Notification' in window
}

function keyBytes(base64url: string): Uint8Array {
  const raw = atob(base64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (base64url.length % 4)) % 4))
  return Uint8Array.from(raw, (c) => c.charCodeAt(0))
}

export async function refreshPush(userId: number): Promise<void> {
  if (!supported()) {
    pushState.value = 'unsupported'
    return
  }
  if (Notification.permission === 'denied') {
    pushState.value = 'denied'
    return
  }
  const saved = await getKv<number>(kvKey(userId))
  const registration = await navigator.serviceWorker.getRegistration()
  const current = await registration?.pushManager.getSubscription()
  pushState.value = saved.ok && saved.value && current ? 'on' : 'off'
}

export async function enablePush(userId: number): Promise<boolean> {
  pushProblem.value = null
  if (!supported()) {
    pushProblem.value = 'unsupported'
    return false
  }
  pushState.value = 'busy'
  try {
    if ((await Notification.requestPermission()) !== 'granted') {
      pushProblem.value = 'denied'
      pushState.value = Notification.permission === 'denied' ? 'denied' : 'off'
      return false
    }
    const { application_server_key } = await pushKey()
    const registration = await navigator.serviceWorker.ready
    let subscription: PushSubscription
    try {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: keyBytes(application_server_key) as BufferSource,
      })
    } catch {
      pushProblem.value = 'unreachable' // the browser's push service did not answer (FCM in mainland China)
      pushState.value = 'off'
      return false
    }
    const row = await savePushSubscription(subscription.toJSON())
    await setKv(kvKey(userId), row.id)
    pushState.value = 'on'
    return true
  } catch {
    pushProblem.value = 'offline'
    pushState.value = 'off'
    return false
  }
}

export async function disablePush(userId: number): Promise<void> {
  if (!supported()) return
  pushState.value = 'busy'
  const saved = await getKv<number>(kvKey(userId))
  const registration = await navigator.serviceWorker.getRegistration()
  await (await registration?.pushManager.getSubscription())?.unsubscribe()
  if (saved.ok && saved.value) await deletePushSubscription(saved.value).catch(() => undefined)
  await deleteKv(kvKey(userId))
  pushState.value = 'off'
}
