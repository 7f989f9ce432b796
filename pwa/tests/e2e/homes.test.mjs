// Home and 我的 screens of the roles without a squad: a village supervisor sees their village and every grid it
// spans, drawn and listed, exactly the grids the server lets them see; a department liaison, who sees no grid, is
// not offered an offline map of none and is told why.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, launch, login, newPhoneContext, waitForPolygons } from './helpers.mjs'
import { api, apiLogin } from './api.mjs'

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`homes of supervisors and liaisons at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test("supervisor1's home draws and lists the grids of their village, not only its outline", async () => {
      const supervisor = await apiLogin('supervisor1')
      const grids = (await api('GET', '/areas?kind=grid&page_size=1000', supervisor.access_token)).features
      assert.ok(grids.length > 0, 'the demo village spans grids')
      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'supervisor1')
      await page.waitForSelector('[data-testid="home-supervisor"]')
      await waitForPolygons(page)
      // the village and each grid are drawn (all of them take taps)
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="area-map"] path.leaflet-interactive').length === n,
        grids.length + 1,
      )
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="area-item"]').length === n, grids.length)
      const listed = await page.locator('[data-testid="area-item"]').allTextContents()
      for (const g of grids) assert.ok(listed.some((text) => text.includes(g.properties.name)), `${g.properties.name} listed`)
      await context.close()
    })

    test('dept1 sees no grid: 我的 offers no offline map and says why; the page itself says the same', async () => {
      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'dept1')
      await page.waitForSelector('[data-testid="home-department"]')
      await page.click('[data-testid="tab-me"]')
      // once synced, the server's count of zero grids decides
      const none = page.locator('[data-testid="offline-map-none"]')
      await none.waitFor()
      assert.match(await none.textContent(), /看不到任何网格.*请联系管理员/)
      assert.equal(await page.locator('[data-testid="offline-map-entry"]').count(), 0)

      await page.goto('/offline-map')
      await page.waitForSelector('[data-testid="offline-map-page"]')
      await page.waitForFunction(() => /看不到任何网格/.test(document.querySelector('[data-testid="download-blocker"]')?.textContent ?? ''))
      assert.equal(await page.locator('[data-testid="download-start"]').isDisabled(), true)
      await context.close()
    })
  })
}
