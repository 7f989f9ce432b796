// A leader whistles a county department (吹哨) from the phone: the case page offers 吹哨 for a category that may be
// whistled, the whistle list opens with the category's own department first and can be searched, and the chosen
// matter sends the case to that department, whose liaison then finds it waiting to report in (报到). On the way,
// one tap on the case's photo shows its watermark copy (水印相机) full screen; the liaison's phone shows the whistle as
// a new message on 待办, which opens the case and is then read.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, apiLogin } from './api.mjs'
import { BASE_URL, MISSING_URL_MESSAGE, eventually, launch, login, newPhoneContext } from './helpers.mjs'

const SHARED = process.env.GRIDPATROL_SHARED_DATA || join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data')
const SPOT = [115.5861, 38.1071] // 官道村, squad 1's zone

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => assert.fail(MISSING_URL_MESSAGE))
} else {
  describe(`whistling from the phone at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('吹哨 with a searched matter reaches the department; the photo opens as its watermark copy', async () => {
      const stamp = Date.now()
      const officer = await apiLogin('officer1')
      const leader = await apiLogin('leader1')
      const liaison = await apiLogin('dept5') // 县住房和城乡建设局 (ZJJ), the department of manhole covers
      const photo = readFileSync(join(SHARED, 'photos', 'exif-samples__gps_DSCN0021.jpg'))
      const form = new FormData()
      for (const [k, v] of Object.entries({ client_id: `e2e-whistle-ev-${stamp}`, captured_at: new Date().toISOString(),
        lon: SPOT[0], lat: SPOT[1], accuracy_m: 5, sha256: createHash('sha256').update(photo).digest('hex') })) {
        form.append(k, String(v))
      }
      form.append('file', new Blob([photo], { type: 'image/jpeg' }), 'cover.jpg')
      const evidence = await api('POST', '/evidence', officer.access_token, form)
      const created = await api('POST', '/cases', officer.access_token, {
        client_id: `e2e-whistle-${stamp}`, category: 'SZSS-01', lon: SPOT[0], lat: SPOT[1],
        description: '井盖缺失（吹哨测试）', evidence: [evidence.id] })
      await api('POST', `/cases/${created.id}/actions`, leader.access_token, { action: 'accept' })

      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'leader1')
      await page.click('[data-testid="tab-cases"]')
      await page.click(`[data-testid="inbox-item"][data-case-id="${created.id}"][data-need="dispatch"]`)
      await page.waitForSelector('[data-testid="case-actions"]')

      await page.locator('[data-testid="case-photo"]').first().click()
      const preview = page.locator('.van-image-preview img')
      await preview.first().waitFor()
      await eventually(async () => preview.first().evaluate((img) => img.complete && img.naturalWidth >= 960))
      await page.locator('.van-image-preview__close-icon').click()
      await page.locator('.van-image-preview').waitFor({ state: 'hidden' })

      const whistle = page.locator('[data-testid="do-whistle"]')
      const box = await whistle.boundingBox()
      assert.ok(box && box.height >= 44 && box.y + box.height <= 640, `吹哨 is a 44 px target on screen: ${JSON.stringify(box)}`)
      await whistle.click()
      const matters = page.locator('[data-testid="whistle-matter"]')
      await matters.first().waitFor()
      await page.fill('[data-testid="whistle-search"] input', '井盖')
      await eventually(async () => (await matters.count()) >= 1 &&
        (await matters.allTextContents()).every((text) => text.includes('井盖')))
      await matters.first().click()
      await page.waitForSelector('[data-testid="cases-page"]')

      const whistled = await eventually(async () => {
        const c = await api('GET', `/cases/${created.id}`, leader.access_token)
        return c.status === 'whistled' && c
      })
      assert.ok(whistled.department_id, 'the case names the department it was whistled to')
      const inbox = await api('GET', '/inbox', liaison.access_token)
      assert.ok(inbox.some((i) => i.case_id === created.id && i.need === 'acknowledge'),
        'the liaison finds it waiting for 报到')
      await context.close()

      // the liaison's phone: the whistle is a new message on 待办; tapped, it opens the case and is read
      const liaisonPhone = await newPhoneContext(browser)
      const dept = await liaisonPhone.newPage()
      await login(dept, 'dept5')
      await dept.waitForSelector('[data-testid="tabbar"]')
      await dept.click('[data-testid="tab-cases"]')
      const notice = dept.locator('[data-testid="notice-item"]', { hasText: `案件#${created.id}` })
      await notice.waitFor()
      assert.match(await notice.textContent(), /乡镇吹哨.*需贵单位报到/)
      await notice.click()
      await dept.waitForSelector('[data-testid="case-actions"] [data-testid="do-acknowledge"]')
      await eventually(async () => {
        const mine = await api('GET', '/notifications', liaison.access_token)
        return mine.items.find((n) => n.case_id === created.id)?.read_at
      })
      await liaisonPhone.close()
    })
  })
}
