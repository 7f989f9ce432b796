// Build config: Vue + Vant, the PWA (own service worker via injectManifest, update by prompt) and legacy bundles
// for old Android webviews (DingTalk may ship Chrome 57).
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import legacy from '@vitejs/plugin-legacy'
import { VitePWA } from 'vite-plugin-pwa'

// Vant's icon font lists a woff2 data: URI first and a CDN woff (at.alicdn.com) as fallback; the app must load
// nothing from outside its origin, so drop every remote url() from @font-face src lists. The data: URI itself
// (34 KB of base64) sat in the stylesheet every first screen waits for: it becomes a file of its own, fetched in
// parallel and only once an icon is drawn (Lighthouse: render-blocking CSS was most of the login's first paint).
const FONT_CACHE = fileURLToPath(new URL('./node_modules/.cache/gridpatrol-fonts/', import.meta.url))
function fontFileFor(mime: string, base64: string, cssFile: string): string {
  const bytes = Buffer.from(base64, 'base64')
  const ext = mime.split('/')[1] ?? 'bin'
  const file = join(FONT_CACHE, `${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}.${ext}`)
  if (!existsSync(file)) {
    mkdirSync(FONT_CACHE, { recursive: true })
    writeFileSync(file, bytes)
  }
  return relative(dirname(cssFile), file)
}
type SrcDecl = { value: string; source?: { input?: { file?: string } } }
const selfHostFonts = {
  postcssPlugin: 'self-host-fonts',
  // Once, not a Declaration visitor: Vite resolves url()s to assets in its own Once, which runs after this one
  Once(root: { walkDecls(prop: string, fn: (decl: SrcDecl) => void): void }) {
    root.walkDecls('src', (decl) => {
      const parts = decl.value.split(/,(?![^(]*\))/)
      decl.value = parts
        .filter((p) => !/url\(\s*['"]?(https?:)?\/\//i.test(p))
        .map((p) =>
          p.replace(/url\(\s*['"]?data:(font\/[\w+-]+)[^,]*;base64,([A-Za-z0-9+/=]+)['"]?\s*\)/, (_m, mime: string, b64: string) =>
            decl.source?.input?.file ? `url("${fontFileFor(mime, b64, decl.source.input.file)}")` : _m,
          ),
        )
        .join(',')
    })
  },
}

export default defineConfig({
  base: '/',
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: {
    // `npm run dev` against a backend on :5000 (same-origin /api in production)
    proxy: { '/api': process.env.GRIDPATROL_API ?? 'http://127.0.0.1:5000' },
  },
  css: { postcss: { plugins: [selfHostFonts] } },
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
