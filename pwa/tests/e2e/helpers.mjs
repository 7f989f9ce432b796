// Shared set-up for the browser tests: the server URL, a headless system Chromium (playwright-core, no download),
// and small page helpers. The tests run against a real GridPatrol server with the demo town.
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'

export const PASSWORD = 'gridpatrol-demo'
export const BASE_URL = (process.env.GRIDPATROL_URL ?? '').replace(/\/+$/, '')
export const MISSING_URL_MESSAGE =
  'GRIDPATROL_URL is not set. These tests need a running GridPatrol server with the demo town ' +
  '(the PWA built into pwa/dist). Run `make test-e2e` from the repository root, or start a server yourself ' +
  'and run `GRIDPATROL_URL=http://127.0.0.1:8000 npm run test:e2e`.'

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-quic', '--disable-sync'],
  })
}

/** A phone-sized context (360×640), Chinese UI by default. */
export function newPhoneContext(browser, options = {}) {
  return browser.newContext({
    baseURL: BASE_URL,
    viewport: { width: 360, height: 640 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
    ...options,
  })
}

export async function login(page, username) {
  await page.goto('/')
  await page.waitForSelector('[data-testid="login-page"]')
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', PASSWORD)
  await page.click('[data-testid="login-submit"]')
}

/** Number of clickable polygons Leaflet has drawn (SVG paths with the leaflet-interactive class). */
export function countInteractivePaths(page) {
  return page.locator('[data-testid="area-map"] path.leaflet-interactive').count()
}

export async function waitForPolygons(page, timeout = 30_000) {
  // the map adds its polygons a slice per task and marks itself data-drawn when the last one is in
  await page.waitForFunction(
    () =>
      document.querySelectorAll('[data-testid="area-map"] path.leaflet-interactive').length > 0 &&
      [...document.querySelectorAll('[data-testid="area-map"]')].every((map) => map.dataset.drawn === 'true'),
    null,
    { timeout },
  )
  return countInteractivePaths(page)
}

/** Wait until the service worker is active and this page is controlled by it (reloads once if needed). */
export async function waitForServiceWorkerControl(page) {
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true))
  if (!(await page.evaluate(() => navigator.serviceWorker.controller !== null))) {
    await page.reload()
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 })
  }
}

/**
 * Wait until the text of `selector` matches `pattern`, then return it. A text that changes after an action (a
 * language switch, an answer arriving) is asserted only once it has had the chance to change; on timeout the
 * failure shows the last text seen.
 */
export async function expectText(page, selector, pattern, timeout = 30_000) {
  const matched = await page
    .waitForFunction(
      ([s, source, flags]) => new RegExp(source, flags).test(document.querySelector(s)?.textContent ?? ''),
      [selector, pattern.source, pattern.flags],
      { timeout },
    )
    .then(() => true, () => false)
  const text = (await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => null)) ?? '(missing)'
  assert.ok(matched, `${selector} should match ${pattern} within ${timeout} ms; it shows: ${text.trim().slice(0, 300)}`)
  return text
}

/** Poll until `check` gives a value (for what the app does by itself, such as uploading, with no event to await). */
export async function eventually(check, timeout = 60_000) {
  const deadline = Date.now() + timeout
  let last
  while (Date.now() < deadline) {
    last = await check()
    if (last) return last
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`not reached in ${timeout} ms; last: ${JSON.stringify(last)}`)
}
