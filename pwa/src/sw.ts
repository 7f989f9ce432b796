/// <reference lib="webworker" />
// Service worker: precache the built shell, answer navigations with index.html (never /api/), answer basemap tiles
// from the downloaded offline map first, and wait for the user to accept an update (registerType 'prompt': no
// skipWaiting until the page asks).
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching'
import { NavigationRoute, registerRoute } from 'workbox-routing'
import { TILE_CACHE } from './lib/tiles'

declare let self: ServiceWorkerGlobalScope

precacheAndRoute(self.__WB_MANIFEST)
cleanupOutdatedCaches()

// the public pages (a draw's record, the code a business scans) come from the server, never the app's shell
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html'), { denylist: [/^\/api(\/|$)/, /^\/public\//, /^\/open311\//] }))

// Basemap tiles, cache-first from the offline map (src/lib/tilesCache.ts fills TILE_CACHE with the exact URLs the
// map requests). The basemap template is a device setting the worker cannot read, so every image request outside
// /api/ is looked up; a miss goes to the network untouched and is not stored: only an explicit download fills the
// cache, so its size stays what the user was shown. Precached images never get here (their route comes first).
registerRoute(
  ({ request, url, sameOrigin }) =>
    request.method === 'GET' && request.destination === 'image' && !(sameOrigin && url.pathname.startsWith('/api/')),
  async ({ request }) => {
    // caches.match with cacheName does not create the cache when nothing was downloaded yet
    const hit = await caches.match(request.url, { cacheName: TILE_CACHE, ignoreVary: true })
    if (hit) return hit
    try {
      return await fetch(request)
    } catch {
      return Response.error()
    }
  },
)

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') void self.skipWaiting()
})

// Web Push (services/notifications/webpush.py sends {title, body, url, tag}): shown as a notification; a tap opens
// the case in an open window of the app, or in a new one.
self.addEventListener('push', (event) => {
  let data: { title?: string; body?: string; url?: string; tag?: string } = {}
  try {
    data = event.data?.json() ?? {}
  } catch {
    data = { body: event.data?.text() }
  }
  // renotify: a new notice about the same case (tag) replaces the old one and still rings
  event.waitUntil(self.registration.showNotification(data.title || '网格巡查', {
    body: data.body, tag: data.tag, renotify: Boolean(data.tag), data: { url: data.url || '/' },
    icon: '/icons/icon-192.png',
  } as NotificationOptions))
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = new URL((event.notification.data as { url?: string } | null)?.url || '/', self.location.origin).href
  event.waitUntil((async () => {
    for (const client of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) {
      if (!client.url.startsWith(self.location.origin)) continue
      try {
        await client.focus()
        return void (await client.navigate(url)) // throws for a window this worker does not control
      } catch {
        break
      }
    }
    await self.clients.openWindow(url)
  })())
})
