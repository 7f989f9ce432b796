// The case cycle walked on phones, one role after the other: the leader accepts and dispatches from the 待办 list,
// the officer acknowledges and reports back with an "after" photo taken with no network (sent once back online),
// the village supervisor sees before and after side by side and verifies, the leader closes. The server's
// timeline then holds each step once, by the right person, with the after photo as evidence.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, apiLogin } from './api.mjs'
import { BASE_URL, MISSING_URL_MESSAGE, eventually, launch, login, newPhoneContext, waitForServiceWorkerControl } from './helpers.mjs'

const SHARED = process.env.GRIDPATROL_SHARED_DATA || join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data')
const SPOT = { longitude: 115.579404, latitude: 38.098351, accuracy: 6 } // village 26 (supervisor21), squad 1


/** Sign in on a fresh phone and open the case from the 待办 list, where it waits for `need`. */
async function openFromInbox(browser, username, caseId, need) {
  const context = await newPhoneContext(browser, { geolocation: SPOT, permissions: ['geolocation'] })
  const page = await context.newPage()
  await login(page, username)
  await page.waitForSelector('[data-testid="tabbar"]')
  await page.click('[data-testid="tab-cases"]')
  await page.click(`[data-testid="inbox-item"][data-case-id="${caseId}"][data-need="${need}"]`)
  await page.waitForSelector('[data-testid="case-actions"]')
  return { context, page }
}

async function stepAndWait(page, selector, check) {
  const button = page.locator(selector)
  const box = await button.boundingBox()
  assert.ok(box && box.height >= 44, `${selector} is a 44 px target`)
  await button.click()
  await page.waitForSelector('[data-testid="cases-page"]')
  return eventually(check)
}

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => assert.fail(MISSING_URL_MESSAGE))
} else {
  describe(`the case cycle on phones at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('accept, dispatch, acknowledge, handle offline with an after photo, verify, close', async () => {
      const photo = readFileSync(join(SHARED, 'photos', 'exif-samples__gps_DSCN0012.jpg'))
      const supervisor = await apiLogin('supervisor21')
      const officer = await apiLogin('officer2')
      const created = await api('POST', '/cases', supervisor.access_token, {
        client_id: `e2e-cycle-${Date.now()}`, category: 'JMZX-04', lon: SPOT.longitude, lat: SPOT.latitude,
        description: '路口乱堆物料（手机端流程测试）' })
      const caseOf = () => api('GET', `/cases/${created.id}`, supervisor.access_token)

      let phone = await openFromInbox(browser, 'leader1', created.id, 'accept')
      await stepAndWait(phone.page, '[data-testid="do-accept"]', async () => (await caseOf()).status === 'accepted')
      await phone.page.click(`[data-testid="inbox-item"][data-case-id="${created.id}"][data-need="dispatch"]`)
      await phone.page.click('[data-testid="do-dispatch"]')
      await phone.page.locator('[data-testid="dispatch-officer"]', { hasText: officer.user.display_name }).click()
      await phone.page.waitForSelector('[data-testid="cases-page"]')
      await eventually(async () => (await caseOf()).assignee_id === officer.user.id)
      await phone.context.close()

      phone = await openFromInbox(browser, 'officer2', created.id, 'acknowledge')
      await waitForServiceWorkerControl(phone.page)
      await stepAndWait(phone.page, '[data-testid="do-acknowledge"]', async () => (await caseOf()).status === 'acknowledged')
      await phone.page.reload()
      await phone.page.click(`[data-testid="inbox-item"][data-case-id="${created.id}"][data-need="handle"]`)
      await phone.page.waitForSelector('[data-testid="do-handle"]')
      // the after photo is taken with no network at all
      await phone.context.setOffline(true)
      await phone.context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      await phone.page.setInputFiles('[data-testid="handle-file"]', [{ name: 'after.jpg', mimeType: 'image/jpeg', buffer: photo }])
      await phone.page.fill('[data-testid="handle-note"] input', '已清走')
      await phone.page.click('[data-testid="do-handle"]')
      await phone.page.waitForSelector('[data-testid="cases-page"]')
      assert.equal((await caseOf()).status, 'acknowledged', 'nothing sent while offline')
      await phone.context.unroute('**/api/**')
      await phone.context.setOffline(false)
      await phone.page.click('[data-testid="tab-me"]')
      await phone.page.evaluate(() => document.querySelector('[data-testid="outbox-upload"]')?.click())
      const handled = await eventually(async () => {
        const c = await caseOf()
        return c.status === 'handled' ? c : null
      })
      const afterPhoto = handled.evidence.find((e) => e.stage === 'after')
      const record = await api('GET', `/evidence/${afterPhoto.evidence_id}`, officer.access_token)
      assert.equal(record.sha256, createHash('sha256').update(photo).digest('hex'))
      await phone.context.close()

      phone = await openFromInbox(browser, 'supervisor21', created.id, 'verify')
      await phone.page.waitForFunction(() => document.querySelectorAll('[data-testid="case-photos"] img[src^="blob:"]').length >= 1)
      await stepAndWait(phone.page, '[data-testid="do-verify-pass"]', async () => (await caseOf()).status === 'verified')
      await phone.context.close()

      phone = await openFromInbox(browser, 'leader1', created.id, 'close')
      await stepAndWait(phone.page, '[data-testid="do-close"]', async () => (await caseOf()).status === 'closed')
      await phone.context.close()

      const timeline = (await caseOf()).timeline.map((a) => [a.action, a.actor_name])
      assert.deepEqual(timeline.map(([a]) => a), ['report', 'accept', 'dispatch', 'acknowledge', 'handle', 'verify', 'close'])
      assert.equal(timeline[4][1], officer.user.display_name)
    })
  })
}
