// A village supervisor reports a problem with three real photos and no network at all, the app is reloaded twice
// offline, then the network comes back: the server holds exactly one case with exactly three evidence records,
// whose capture hashes are the SHA-256 of the very files taken, each with the display copy the phone made; the
// originals follow as resumable tus uploads.
// supervisor17's village (官道村) lies in squad 1's zone, away from the other tests' squads.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, apiLogin } from './api.mjs'
import { BASE_URL, MISSING_URL_MESSAGE, eventually, launch, login, newPhoneContext, waitForServiceWorkerControl } from './helpers.mjs'

const SHARED = process.env.GRIDPATROL_SHARED_DATA || join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data')
const PHOTOS = ['exif-samples__gps_DSCN0010.jpg', 'exif-samples__orientation_portrait_6.jpg',
  'exif-samples__mobile_HMD_Nokia_8.3_5G.jpg']
const SPOT = { longitude: 115.589755, latitude: 38.105988, accuracy: 7 }


if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => assert.fail(MISSING_URL_MESSAGE))
} else {
  describe(`reporting a problem at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('an offline report with three photos survives two reloads and reaches the server exactly once', async () => {
      const files = PHOTOS.map((name) => ({ name, mimeType: 'image/jpeg', buffer: readFileSync(join(SHARED, 'photos', name)) }))
      const hashes = files.map((f) => createHash('sha256').update(f.buffer).digest('hex'))
      const admin = await apiLogin('admin')
      const before = (await api('GET', '/cases?page_size=500', admin.access_token)).map((c) => c.id)

      const context = await newPhoneContext(browser, { geolocation: SPOT, permissions: ['geolocation'] })
      const page = await context.newPage()
      const tus = [] // the originals' requests: resumable uploads (POST to create, PATCH with the bytes)
      page.on('request', (r) => { if (r.url().includes('/api/v1/uploads')) tus.push(r.method()) })
      await login(page, 'supervisor17')
      await page.waitForSelector('[data-testid="home-supervisor"]')
      await waitForServiceWorkerControl(page)
      // two taps from the home: the report tab, then the camera; the categories are fetched once online
      const categoriesFetched = page.waitForResponse((r) => r.url().includes('/api/v1/case-categories') && r.ok())
      await page.click('[data-testid="tab-report"]')
      await page.waitForSelector('[data-testid="report-page"]')
      await categoriesFetched
      await page.waitForFunction(() => /精度约 7 米/.test(document.querySelector('[data-testid="report-position"]')?.textContent ?? ''))

      // no network at all from here
      await context.setOffline(true)
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      await page.click('[data-testid="report-category"]')
      await page.fill('[data-testid="category-search"] input', '垃圾乱堆')
      await page.locator('[data-testid="category-option"]', { hasText: '垃圾乱堆乱放' }).click()
      await page.setInputFiles('[data-testid="report-file"]', files)
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="report-photo"]').length === 3)
      await page.fill('[data-testid="report-description"] textarea', '村口垃圾堆放（离线上报测试）')
      const send = page.locator('[data-testid="report-send"]')
      assert.ok(await send.isEnabled())
      const box = await send.boundingBox()
      assert.ok(box && box.y + box.height <= 640 && box.height >= 44, 'the send button is on screen, 44 px or more')
      await send.click()
      await page.waitForSelector('[data-testid="home-supervisor"]')

      // two reloads with no network: the report and its photos wait on the phone
      for (let i = 0; i < 2; i++) {
        await page.reload()
        await page.waitForSelector('[data-testid="home-supervisor"]')
      }
      await page.click('[data-testid="tab-me"]')
      await page.waitForFunction(() => /问题上报 1 条/.test(document.querySelector('[data-testid="me-pending-text"]')?.textContent ?? ''))
      assert.match(await page.textContent('[data-testid="me-pending-text"]'), /问题照片 3 张/)
      const stillNone = (await api('GET', '/cases?page_size=500', admin.access_token)).filter((c) => !before.includes(c.id))
      assert.deepEqual(stillNone, [], 'nothing reached the server while offline')

      // back online: the app uploads by itself; the button is pressed too in case the online event never comes
      await context.unroute('**/api/**')
      await context.setOffline(false)
      await page.evaluate(() => document.querySelector('[data-testid="outbox-upload"]')?.click())
      const created = await eventually(async () => {
        const now = (await api('GET', '/cases?page_size=500', admin.access_token)).filter((c) => !before.includes(c.id))
        return now.length ? now : null
      })
      assert.equal(created.length, 1, 'exactly one case')
      const detail = await api('GET', `/cases/${created[0].id}`, admin.access_token)
      assert.equal(detail.category.name, '垃圾乱堆乱放')
      assert.equal(detail.source, 'supervisor')
      assert.ok(detail.village_id !== null && detail.squad_id === 1)
      assert.equal(detail.description, '村口垃圾堆放（离线上报测试）')
      assert.ok(Math.abs(detail.lon - SPOT.longitude) < 1e-6 && Math.abs(detail.lat - SPOT.latitude) < 1e-6)
      assert.equal(detail.evidence.length, 3, 'exactly three evidence items')
      const records = await Promise.all(detail.evidence.map((e) => api('GET', `/evidence/${e.evidence_id}`, admin.access_token)))
      assert.deepEqual(records.map((r) => r.sha256), hashes, 'the capture hashes are the files\' own')
      for (const r of records) {
        const display = r.files.find((f) => f.role === 'display')
        assert.equal(display?.made_by, 'client', 'the display copy is the one the phone made')
        assert.ok(Math.max(display.width, display.height) <= 1920)
      }
      // the phone made the Nokia's 4608 px copy at 1920 px, upright
      assert.equal(Math.max(records[2].files.find((f) => f.role === 'display').width, records[2].files.find((f) => f.role === 'display').height), 1920)
      const portrait = records[1].files.find((f) => f.role === 'display')
      assert.ok(portrait.height > portrait.width, 'EXIF orientation 6 is honoured in the phone\'s copy')
      // the originals follow (this context reports no metered connection) and match the capture hashes
      await eventually(async () => {
        const now = await Promise.all(records.map((r) => api('GET', `/evidence/${r.id}`, admin.access_token)))
        return now.every((r) => r.files.some((f) => f.role === 'original' && f.sha256 === r.sha256)) ? now : null
      })
      assert.equal(tus.filter((m) => m === 'POST').length, 3, `one tus upload per original: ${tus}`)
      assert.ok(tus.filter((m) => m === 'PATCH').length >= 3, 'their bytes sent as tus PATCHes')
      await page.waitForFunction(() => /全部已上传/.test(document.querySelector('[data-testid="me-pending-text"]')?.textContent ?? ''))
      await context.close()
    })
  })
}
