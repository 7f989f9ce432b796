// Web Push on a phone in mainland China: the browser allows notifications, but its push service cannot be reached
// (this test's Chromium has no network beyond the app, as Chrome's FCM is out of reach there). Turning push on must
// then say so in Chinese and point to what still works (待办 and the work notices), and leave the switch off.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, expectText, launch, login, newPhoneContext, waitForServiceWorkerControl } from './helpers.mjs'

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => assert.fail(MISSING_URL_MESSAGE))
} else {
  describe(`push notifications on a phone at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('a push service out of reach: the switch stays off and says what still works', async () => {
      const context = await newPhoneContext(browser)
      await context.grantPermissions(['notifications'], { origin: BASE_URL })
      const page = await context.newPage()
      await login(page, 'officer1')
      await waitForServiceWorkerControl(page)
      await page.goto(`${BASE_URL}/me`)
      const toggle = page.locator('[data-testid="push-switch"]')
      await toggle.waitFor()
      assert.equal(await toggle.getAttribute('aria-checked'), 'false')
      const box = await toggle.boundingBox()
      assert.ok(box && box.height >= 44, `the switch is a 44 px target: ${box?.height}`)
      await toggle.click()
      await expectText(page, '[data-testid="push-switch"]', /连接不上推送服务.*待办/)
      assert.equal(await toggle.getAttribute('aria-checked'), 'false')
      await context.close()
    })
  })
}
