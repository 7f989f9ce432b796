// Routes; everything but /login needs a user (restored from IndexedDB, so this works offline).
import { createRouter, createWebHistory } from 'vue-router'
import { session } from '@/composables/useSession'

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('@/pages/LoginPage.vue') },
    { path: '/', name: 'home', component: () => import('@/pages/HomePage.vue') },
    { path: '/me', name: 'me', component: () => import('@/pages/MePage.vue') },
    { path: '/me/basemap', name: 'basemap', component: () => import('@/pages/BasemapPage.vue') },
    { path: '/patrol', name: 'patrol', component: () => import('@/pages/PatrolPage.vue') },
    { path: '/offline-map', name: 'offline-map', component: () => import('@/pages/OfflineMapPage.vue') },
    { path: '/coverage', name: 'coverage', component: () => import('@/pages/CoveragePage.vue') },
    { path: '/plan', name: 'plan', component: () => import('@/pages/PlanPage.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach((to) => {
  if (to.name !== 'login' && session.userId === null) return { name: 'login' }
  return true
})
