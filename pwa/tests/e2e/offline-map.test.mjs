// Offline map in a real browser: with a basemap at https://tiles.test (answered by a Playwright route with a tiny
// PNG), the page shows the tile count and a measured size estimate before downloading, progress to 100 % during,
// and afterwards, with the network and the tile server cut, the home map's tiles come from the service worker's cache.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BASE_URL, MISSING_URL_MESSAGE, expectText, launch, login, newPhoneContext, waitForPolygons, waitForServiceWorkerControl,
} from './helpers.mjs'

const TILE_TEMPLATE = 'https://tiles.test/{z}/{x}/{y}.png'
// 1×1 transparent PNG (70 bytes)
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64')

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`offline map at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('without a basemap the page says so and the download button is disabled', async () => {
      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'officer1')
      await page.waitForSelector('[data-testid="home-officer"]')
      await page.click('[data-testid="tab-me"]')
      await page.click('[data-testid="offline-map-entry"]')
      await page.waitForSelector('[data-testid="offline-map-page"]')
      // until the first sync has brought the grids the page says "sync first"; then the basemap is what is missing
      await expectText(page, '[data-testid="download-blocker"]', /未配置底图/)
      assert.equal(await page.locator('[data-testid="download-start"]').isDisabled(), true)
      assert.match(await page.textContent('[data-testid="stored-map"]'), /尚未下载离线地图/)
      await context.close()
    })

    test('count and estimate before, progress to 100 % during, tiles from the cache offline after', async () => {
      const context = await newPhoneContext(browser)
      let tileHits = 0
      let tileServerUp = true
      await context.route('https://tiles.test/**', async (route) => {
        tileHits += 1
        if (!tileServerUp) return route.abort('internetdisconnected')
        return route.fulfill({
          status: 200,
          body: PNG,
          headers: { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' },
        })
      })
      const page = await context.newPage()
      await login(page, 'leader1')
      await page.waitForSelector('[data-testid="home-squad"]')
      await waitForPolygons(page)
      await waitForServiceWorkerControl(page)

      // basemap override on this device: a custom XYZ template
      await page.goto('/me/basemap')
      await page.getByText('自定义', { exact: true }).click()
      await page.fill('textarea', TILE_TEMPLATE)
      await page.getByRole('button', { name: '保存' }).click()
      await page.waitForURL((url) => !url.pathname.endsWith('/basemap'))

      await page.goto('/me')
      await page.click('[data-testid="offline-map-entry"]')
      await page.waitForSelector('[data-testid="offline-map-page"]')
      // before: a tile count and an estimate measured on real tiles (70 bytes each here); each figure is read once
      // it is there (the measurement and the storage estimate arrive separately)
      const estimate = await expectText(page, '[data-testid="size-estimate"]', /实测[\s\S]*70 B|70 B[\s\S]*实测/)
      const tiles = Number((await page.textContent('[data-testid="tile-count"] .van-cell__value')).trim())
      assert.ok(tiles > 20 && tiles < 30_000, `tile count ${tiles}`)
      assert.match(estimate, /约 .*(B|kB|MB)/)
      assert.match(estimate, /70 B/)
      await expectText(page, '[data-testid="storage-estimate"]', /\d.* \/ \d/)
      for (const z of [12, 13, 14, 15, 16, 17]) {
        assert.equal(await page.locator(`[data-testid="zoom-${z}"] [role="checkbox"], [data-testid="zoom-${z}"]`).first().getAttribute('aria-checked'), 'true')
      }
      assert.equal(await page.locator('[data-testid="download-blocker"]').count(), 0)

      // during: progress up to done = total, then the stored map
      const hitsBefore = tileHits
      await page.click('[data-testid="download-start"]')
      await page.waitForSelector('[data-testid="download-progress"]')
      await page.waitForFunction(
        (total) => (document.querySelector('[data-testid="progress-text"]')?.textContent ?? '').includes(`${total} / ${total} 张`),
        tiles,
        { timeout: 120_000 },
      )
      await page.waitForFunction(() => /完整/.test(document.querySelector('[data-testid="stored-status"]')?.textContent ?? ''))
      assert.match(await page.textContent('[data-testid="download-progress"]'), /100%/)
      assert.ok(tileHits - hitsBefore >= tiles, `every tile was fetched (${tileHits - hitsBefore} of ${tiles})`)
      const cached = await page.evaluate(async () => (await (await caches.open('gridpatrol-tiles-v1')).keys()).length)
      assert.equal(cached, tiles)
      assert.match(await page.textContent('[data-testid="stored-tiles"]'), new RegExp(`${tiles} / ${tiles}`))

      // after: offline (API and tile server cut), the home map still draws its tiles, from the cache
      tileServerUp = false
      await context.setOffline(true)
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      await page.goto('/')
      await page.waitForSelector('[data-testid="offline-banner"]')
      await page.waitForSelector('[data-testid="home-squad"]')
      await waitForPolygons(page)
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="area-map"] img.leaflet-tile-loaded').length > 0, null, { timeout: 20_000 })
      const shown = await page.evaluate(async () => {
        const imgs = [...document.querySelectorAll('[data-testid="area-map"] img.leaflet-tile-loaded')]
        const cache = await caches.open('gridpatrol-tiles-v1')
        const fromCache = await Promise.all(imgs.map(async (img) => !!(await cache.match(img.src))))
        const viaWorker = imgs.map((img) => (performance.getEntriesByName(img.src)[0]?.workerStart ?? 0) > 0)
        return {
          loaded: imgs.length,
          decoded: imgs.filter((img) => img.naturalWidth > 0).length,
          inCache: fromCache.filter(Boolean).length,
          viaWorker: viaWorker.filter(Boolean).length,
          urls: imgs.map((img) => img.src),
        }
      })
      assert.ok(shown.loaded > 0, 'tiles drawn offline')
      assert.equal(shown.decoded, shown.loaded, 'every drawn tile is an image')
      assert.equal(shown.inCache, shown.loaded, `every drawn tile is in the offline cache: ${shown.urls.join(' ')}`)
      assert.equal(shown.viaWorker, shown.loaded, 'every drawn tile was answered by the service worker')
      assert.ok(shown.urls.every((u) => u.startsWith('https://tiles.test/')))

      // deleting the offline map empties the cache (back online for the page's own requests)
      await context.setOffline(false)
      await context.unroute('**/api/**')
      await page.goto('/offline-map')
      await page.click('[data-testid="download-delete"]')
      await page.getByRole('button', { name: '确认' }).click()
      await page.waitForFunction(() => /尚未下载离线地图/.test(document.querySelector('[data-testid="stored-map"]')?.textContent ?? ''))
      assert.equal(await page.evaluate(() => caches.has('gridpatrol-tiles-v1')), false)
      await context.close()
    })
  })
}
