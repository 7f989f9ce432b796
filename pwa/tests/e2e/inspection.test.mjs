// A joint inspection on site with no network: a plan drawn for officer18 and officer19 (squad 4, away from the
// other tests), officer18 opens the drawn inspection online, then loses the network; checks in, goes item by item,
// photographs a failure, the app is reloaded, the representative signs on screen, the app is reloaded again; back
// online the server holds exactly one submission, the failure's photo with the file's own hash, the strokes with
// their times, and one re-inspection task. At 360×640 the primary actions are on screen and 44 px or more.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, apiLogin } from './api.mjs'
import { BASE_URL, MISSING_URL_MESSAGE, eventually, launch, login, newPhoneContext, waitForServiceWorkerControl } from './helpers.mjs'

const SHARED = process.env.GRIDPATROL_SHARED_DATA || join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data')
const PHOTO = 'exif-samples__gps_DSCN0010.jpg'

async function onScreen(page, selector) {
  const box = await page.locator(selector).boundingBox()
  assert.ok(box, `${selector} is shown`)
  assert.ok(box.y >= 0 && box.y + box.height <= 640, `${selector} is on screen without scrolling (${box.y}+${box.height})`)
  assert.ok(box.height >= 44, `${selector} is 44 px or more (${box.height})`)
}

async function drawnInspection() {
  const leader = await apiLogin('leader4')
  const commander = await apiLogin('commander1')
  const admin = await apiLogin('admin')
  const users = await api('GET', '/users?page_size=200', admin.access_token)
  const named = ['officer18', 'officer19'].map((n) => users.find((u) => u.username === n).id)
  const shops = await api('GET', '/businesses?scenario=JXCS&page_size=100', leader.access_token)
  const shop = shops.find((b) => b.inspections_this_year === 0) // under its annual cap
  const plan = await api('POST', '/inspection-plans', leader.access_token, {
    client_id: `e2e-inspection-${Date.now()}`, name: '九小场所定向检查（浏览器测试）', kind: 'directed',
    enforcing_body: '示范镇人民政府', task_source: '投诉转办', scenario: 'JXCS', business_ids: [shop.id],
    inspector_ids: named, starts_on: `${new Date().getFullYear()}-01-01`, ends_on: `${new Date().getFullYear()}-12-31`,
  })
  await api('POST', `/inspection-plans/${plan.id}/approve`, commander.access_token, { note: '同意' })
  await api('POST', `/inspection-plans/${plan.id}/freeze`, leader.access_token)
  const draw = await api('POST', `/inspection-plans/${plan.id}/draw`, leader.access_token,
                         { seed: '4 4 2 6 1', seed_source: '浏览器测试掷骰' })
  return { inspectionId: draw.targets[0].inspection_id, business: shop, admin }
}

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => assert.fail(MISSING_URL_MESSAGE))
} else {
  describe(`an inspection on site at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('offline: check-in, results, a photo, a signature, two reloads, then exactly one submission', async () => {
      const { inspectionId, business, admin } = await drawnInspection()
      const photo = readFileSync(join(SHARED, 'photos', PHOTO))
      const hash = createHash('sha256').update(photo).digest('hex')
      const spot = { longitude: business.lon + 0.0003, latitude: business.lat, accuracy: 6 }
      const context = await newPhoneContext(browser, { geolocation: spot, permissions: ['geolocation'] })
      const page = await context.newPage()
      await login(page, 'officer18')
      await page.waitForSelector('[data-testid="tabbar"]')
      await waitForServiceWorkerControl(page)
      await page.click('[data-testid="tab-cases"]')
      await page.click('[data-testid="inspections-entry"]')
      await page.click(`[data-testid="inspection-item"][data-inspection-id="${inspectionId}"]`)
      await page.waitForSelector('[data-testid="check-item"]')
      const codes = await page.$$eval('[data-testid="check-item"]', (els) => els.map((e) => e.dataset.code))
      assert.ok(codes.length >= 8, 'the checklist is shown')
      await onScreen(page, '[data-testid="check-in"]')
      await onScreen(page, '[data-testid="open-sign"]')

      // the code the business scans
      await page.click('[data-testid="show-code"]')
      const url = await page.getAttribute('[data-testid="code-qr"]', 'data-url')
      assert.match(url, /\/public\/inspections\/[\w-]{16,}$/)
      assert.equal(await page.locator('[data-testid="code-qr"] svg').count(), 1)
      const scanned = await fetch(url)
      assert.equal(scanned.status, 200)
      assert.match(await scanned.text(), new RegExp(business.name))
      await page.keyboard.press('Escape')
      await page.locator('[data-testid="code-sheet"] .van-popup__close-icon').click().catch(() => undefined)
      await page.waitForSelector('[data-testid="code-sheet"]', { state: 'hidden' })

      // no network from here
      await context.setOffline(true)
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      await page.click('[data-testid="check-in"]')
      await page.waitForSelector('[data-testid="checked-in"]')
      assert.match(await page.textContent('[data-testid="checked-in"]'), /已签到 · 距登记位置 2\d 米/)
      for (const code of codes.slice(1)) {
        await page.click(`[data-testid="check-item"][data-code="${code}"] [data-testid="result-pass"]`)
      }
      const first = `[data-testid="check-item"][data-code="${codes[0]}"]`
      await page.click(`${first} [data-testid="result-fail"]`)
      await page.fill(`${first} [data-testid="item-note"] textarea`, '灭火器压力不足（浏览器测试）')
      await page.setInputFiles(`${first} [data-testid="item-photo-input"]`, { name: PHOTO, mimeType: 'image/jpeg', buffer: photo })
      await page.waitForFunction((sel) => /已拍 1 张/.test(document.querySelector(`${sel} [data-testid="item-photo-count"]`)?.textContent ?? ''), first)
      await page.waitForFunction(() => /已填 \d+\/\d+/.test(document.querySelector('[data-testid="progress"]')?.textContent ?? ''))
      assert.match(await page.textContent('[data-testid="progress"]'), new RegExp(`已填 ${codes.length}/${codes.length}`))

      // a reload: the draft comes back as it was
      await page.reload()
      await page.waitForSelector(`${first}[data-result="fail"]`)
      assert.equal(await page.locator('[data-testid="check-item"][data-result="pass"]').count(), codes.length - 1)
      assert.match(await page.textContent('[data-testid="checked-in"]'), /已签到/)
      assert.equal(await page.inputValue(`${first} [data-testid="item-note"] textarea`), '灭火器压力不足（浏览器测试）')

      // the representative signs on screen
      await page.click('[data-testid="open-sign"]')
      await page.waitForSelector('[data-testid="signature-pad"]')
      // the sheet slides up: sign once it rests at the bottom of the screen
      await page.waitForFunction(() => {
        const sheet = document.querySelector('[data-testid="sign-sheet"]')
        return sheet && !/enter|leave/.test(sheet.className) // Vue's transition classes are gone: it has arrived
      })
      const pad = await page.locator('[data-testid="signature-pad"]').boundingBox()
      await page.mouse.move(pad.x + 30, pad.y + 60)
      await page.mouse.down()
      for (let i = 1; i <= 8; i++) await page.mouse.move(pad.x + 30 + i * 20, pad.y + 60 + (i % 2 ? 25 : -15))
      await page.mouse.up()
      await page.fill('[data-testid="signer-name"] input', '王老板')
      await page.click('[data-testid="signer-name"] input')
      await onScreen(page, '[data-testid="submit"]')
      await page.click('[data-testid="submit"]')
      await page.waitForSelector('[data-testid="submitted-queued"]')

      // a second reload, still offline: queued, not lost, nothing on the server yet
      await page.reload()
      await page.waitForSelector('[data-testid="submitted-queued"]')
      const before = await api('GET', `/inspections/${inspectionId}`, admin.access_token)
      assert.equal(before.status, 'assigned')
      await page.click('[data-testid="tab-me"]')
      await page.waitForFunction(() => /检查结果 1 份/.test(document.querySelector('[data-testid="me-pending-text"]')?.textContent ?? ''))
      assert.match(await page.textContent('[data-testid="me-pending-text"]'), /检查签到 1 次/)

      // online again
      await context.unroute('**/api/**')
      await context.setOffline(false)
      await page.evaluate(() => document.querySelector('[data-testid="outbox-upload"]')?.click())
      const done = await eventually(async () => {
        const d = await api('GET', `/inspections/${inspectionId}`, admin.access_token)
        return d.status === 'submitted' ? d : null
      })
      assert.equal(done.results.length, codes.length)
      const failed = done.results.filter((r) => r.result === 'fail')
      assert.deepEqual(failed.map((r) => r.item_code), [codes[0]])
      assert.equal(failed[0].note, '灭火器压力不足（浏览器测试）')
      assert.equal(failed[0].evidence_ids.length, 1, 'exactly the one photo')
      const evidence = await api('GET', `/evidence/${failed[0].evidence_ids[0]}`, admin.access_token)
      assert.equal(evidence.sha256, hash, 'the photo is the file taken')
      assert.equal(done.signer_name, '王老板')
      const strokes = done.signature.strokes
      assert.equal(strokes.length, 1)
      assert.ok(strokes[0].length >= 5 && strokes[0].every((p, i) => i === 0 || p.t >= strokes[0][i - 1].t))
      assert.ok(done.check_in_distance_m > 20 && done.check_in_distance_m < 35 && !done.check_in_flagged)
      assert.equal(done.reinspection_ids.length, 1, 'one re-inspection task')
      const audit = await api('GET', `/audit?entity=inspection&entity_id=${inspectionId}&page_size=50`, admin.access_token)
      assert.equal(audit.filter((a) => a.action === 'inspection.submit').length, 1, 'submitted exactly once')
      assert.equal(audit.filter((a) => a.action === 'inspection.check_in').length, 1, 'checked in once')
      await page.waitForFunction(() => /全部已上传/.test(document.querySelector('[data-testid="me-pending-text"]')?.textContent ?? ''))
      await context.close()
    })
  })
}
