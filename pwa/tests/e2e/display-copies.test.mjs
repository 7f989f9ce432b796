// The display copies phones make, measured on every real photo in ../shared/data/photos (the nine camera photos;
// the pillow__ files are Pillow's test fixtures: a 1 KB stub, a broken GPS block and a truncated file). One report
// with all nine, sent online: each record's display copy is the phone's (Chromium cannot decode HEIC: that one's
// is the server's, made from the original), at most 1920 px, and their median size is at most 400 KB (issue 10).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { api, apiLogin } from './api.mjs'
import { BASE_URL, MISSING_URL_MESSAGE, eventually, launch, login, newPhoneContext } from './helpers.mjs'

const SHARED = process.env.GRIDPATROL_SHARED_DATA || join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data')
const SPOT = { longitude: 115.589755, latitude: 38.105988, accuracy: 7 }
const MEDIAN_LIMIT = 400 * 1024

function median(values) {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => assert.fail(MISSING_URL_MESSAGE))
} else {
  describe(`display copies made on the phone at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('every real photo: the phone\'s copy at most 1920 px, median at most 400 KB', async () => {
      const names = readdirSync(join(SHARED, 'photos')).filter((n) => n.startsWith('exif-samples__')).sort()
      assert.equal(names.length, 9, 'the nine camera photos of the shared data')
      const files = names.map((name) => ({
        name, mimeType: name.endsWith('.HEIC') ? 'image/heic' : 'image/jpeg',
        buffer: readFileSync(join(SHARED, 'photos', name)) }))
      const supervisor = await apiLogin('supervisor17')
      const mine = async () => (await api('GET', '/cases?mine=true&page_size=500', supervisor.access_token)).map((c) => c.id)
      const before = await mine()

      const context = await newPhoneContext(browser, { geolocation: SPOT, permissions: ['geolocation'] })
      const page = await context.newPage()
      await login(page, 'supervisor17')
      await page.waitForSelector('[data-testid="home-supervisor"]')
      await page.click('[data-testid="tab-report"]')
      await page.waitForSelector('[data-testid="report-page"]')
      await page.click('[data-testid="report-category"]')
      await page.fill('[data-testid="category-search"] input', '垃圾乱堆')
      await page.locator('[data-testid="category-option"]', { hasText: '垃圾乱堆乱放' }).click()
      await page.setInputFiles('[data-testid="report-file"]', files)
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="report-photo"]').length === n, files.length)
      await page.fill('[data-testid="report-description"] textarea', '显示副本大小测试')
      await page.click('[data-testid="report-send"]')

      const caseId = await eventually(async () => (await mine()).find((id) => !before.includes(id)))
      const records = await eventually(async () => {
        const detail = await api('GET', `/cases/${caseId}`, supervisor.access_token)
        if (detail.evidence.length !== files.length) return null
        const all = await Promise.all(detail.evidence.map((e) => api('GET', `/evidence/${e.evidence_id}`, supervisor.access_token)))
        return all.every((r) => r.files.some((f) => f.role === 'display')) ? all : null
      }, 120_000)
      const displays = records.map((r) => ({ name: r.client_id, ...r.files.find((f) => f.role === 'display') }))
      const byPhone = displays.filter((d) => d.made_by === 'client')
      assert.equal(byPhone.length, 8, `every JPEG's display copy was made on the phone: ${JSON.stringify(displays.map((d) => d.made_by))}`)
      for (const d of displays) assert.ok(Math.max(d.width, d.height) <= 1920, `${d.width}x${d.height}`)
      const sizes = displays.map((d) => d.size_bytes)
      const middle = median(sizes)
      console.log(`display copies (KB): ${sizes.map((s) => Math.round(s / 1024)).join(', ')}; median ${Math.round(middle / 1024)} KB`)
      assert.ok(middle <= MEDIAN_LIMIT, `median ${Math.round(middle / 1024)} KB, at most 400 KB`)
      await context.close()
    })
  })
}
