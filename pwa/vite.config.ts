// Build config: Vue + Vant, the PWA (own service worker via injectManifest, update by prompt) and legacy bundles
// for old Android webviews (DingTalk may ship Chrome 57).
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import legacy from '@vitejs/plugin-legacy'
import { VitePWA } from 'vite-plugin-pwa'

// Vant's icon font lists a woff2 data: URI first and a CDN woff (at.alicdn.com) as fallback; the app must load
// nothing from outside its origin, so drop every remote url() from @font-face src lists.
const stripRemoteFontUrls = {
  postcssPlugin: 'strip-remote-font-urls',
  Declaration: {
    src(decl: { value: string }) {
      const parts = decl.value.split(/,(?![^(]*\))/)
      decl.value = parts.filter((p) => !/url\(\s*['"]?(https?:)?\/\//i.test(p)).join(',')
    },
  },
}

export default defineConfig({
  base: '/',
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: {
    // `npm run dev` against a backend on :5000 (same-origin /api in production)
    proxy: { '/api': process.env.GRIDPATROL_API ?? 'http://127.0.0.1:5000' },
  },
  css: { postcss: { plugins: [stripRemoteFontUrls] } },
  build: { outDir: 'dist', chunkSizeWarningLimit: 1200 },
  plugins: [
    vue(),
    process.env.NO_LEGACY ? null : legacy({ targets: ['chrome >= 57', 'safari >= 11'], modernPolyfills: false }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      injectManifest: {
        globPatterns: ['**/*.{js,css,html,png,svg,webmanifest,woff2}'],
        // Legacy bundles are for old webviews (WeChat/DingTalk, mostly without a service worker); modern browsers never
        // load them, so they stay out of the precache that every phone downloads at install.
        globIgnores: ['**/node_modules/**/*', 'sw.js', 'workbox-*.js', '**/*-legacy-*.js'],
        maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
      },
      manifest: {
        name: '网格巡查',
        short_name: '网格巡查',
        description: '乡镇综合行政执法 网格巡查',
        lang: 'zh-CN',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: '#1f4ea8',
        background_color: '#ffffff',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icons/maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      devOptions: { enabled: false },
    }),
  ],
})
