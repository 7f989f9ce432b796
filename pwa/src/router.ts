// Routes; everything but /login needs a user (restored from IndexedDB, so this works offline).
import { createRouter, createWebHistory } from 'vue-router'
import { session } from '@/composables/useSession'
// The home is in the entry chunk: most starts land on it, and loading it on demand put one more round trip before
// its first paint (Lighthouse, slow 4G: the officer home's largest paint 2.34 -> 2.15 s). The other screens load
// on demand.
import HomePage from '@/pages/HomePage.vue'

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('@/pages/LoginPage.vue') },
    { path: '/', name: 'home', component: HomePage },
    { path: '/me', name: 'me', component: () => import('@/pages/MePage.vue') },
    { path: '/me/basemap', name: 'basemap', component: () => import('@/pages/BasemapPage.vue') },
    { path: '/patrol', name: 'patrol', component: () => import('@/pages/PatrolPage.vue') },
    { path: '/offline-map', name: 'offline-map', component: () => import('@/pages/OfflineMapPage.vue') },
    { path: '/coverage', name: 'coverage', component: () => import('@/pages/CoveragePage.vue') },
    { path: '/plan', name: 'plan', component: () => import('@/pages/PlanPage.vue') },
    { path: '/report', name: 'report', component: () => import('@/pages/ReportPage.vue') },
    { path: '/cases', name: 'cases', component: () => import('@/pages/CasesPage.vue') },
    { path: '/cases/map', name: 'case-map', component: () => import('@/pages/CaseMapPage.vue') },
    { path: '/cases/:id(\\d+)', name: 'case', component: () => import('@/pages/CaseDetailPage.vue') },
    { path: '/inspections', name: 'inspections', component: () => import('@/pages/InspectionsPage.vue') },
    { path: '/inspections/:id(\\d+)', name: 'inspection', component: () => import('@/pages/InspectionPage.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

/**
 * Starts loading the code of the screen at `path` (and what it imports) at once. main.ts restores the session
 * from IndexedDB before the router resolves the first route; fetching the screen meanwhile saves a round trip
 * before the first paint. The router's own import later gets the same module.
 */
export function preloadRoute(path: string): void {
  for (const record of router.resolve(path).matched) {
    const component = record.components?.default
    if (typeof component === 'function') void (component as () => Promise<unknown>)().catch(() => undefined)
  }
}
if (import.meta.env.PROD && typeof location !== 'undefined') preloadRoute(location.pathname)

router.beforeEach((to) => {
  if (to.name !== 'login' && session.userId === null) return { name: 'login' }
  return true
})
