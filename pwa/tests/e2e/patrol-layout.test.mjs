// The officer's home and patrol screen on a 360×640 phone against a real server: idle, with today's task, recording,
// with uploads waiting offline (and a reload offline: the map stays on the officer), and with a patrol running on
// the server from "another phone" (continued here). In every state each primary action is on screen without
// scrolling and not under the tab bar, and every visible button, link and stepper is at least 44×44 px.
// Squad 2's people (leader2, officer6, officer7) are used so the other test files' figures stay theirs.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, PASSWORD, expectText, launch, login, newPhoneContext, waitForPolygons } from './helpers.mjs'

async function api(path, { token, method = 'GET', body } = {}) {
  const request = () =>
    fetch(BASE_URL + path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    })
  // gunicorn closes an idle keep-alive connection after 2 s, Node's fetch reuses one for 4 s: a request sent on a
  // connection the server has just closed fails before any answer. Every call here may be sent again (client ids,
  // batch ids; ending twice keeps the first end), so it is, once.
  const res = await request().catch((err) => {
    if (err?.cause?.code === 'UND_ERR_SOCKET' || err?.cause?.code === 'ECONNRESET') return request()
    throw err
  })
  const data = await res.json().catch(() => null)
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`)
  return data
}

const apiLogin = async (username) =>
  (await api('/api/v1/auth/login', { method: 'POST', body: { username, password: PASSWORD } }))

/** A server kept from an earlier run may still have this officer's patrol running: end it first. */
async function endRunning(officer) {
  const running = await api(`/api/v1/patrols?active=true&officer=${officer.user.id}`, { token: officer.access_token })
  for (const p of running) await api(`/api/v1/patrols/${p.id}/end`, { token: officer.access_token, method: 'POST', body: {} })
}

/** Each selector must match a visible element whose box lies inside the viewport and whose centre is its own. */
async function assertOnScreen(page, selectors, state) {
  for (const selector of selectors) {
    const result = await page.evaluate((sel) => {
      const el = document.querySelector(sel)
      if (!el) return { missing: true }
      const r = el.getBoundingClientRect()
      const cx = r.left + r.width / 2
      const cy = r.top + r.height / 2
      const hit = document.elementFromPoint(cx, cy)
      return {
        rect: { top: r.top, bottom: r.bottom, left: r.left, right: r.right },
        inside: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight && r.right <= innerWidth,
        own: !!hit && (el === hit || el.contains(hit)),
        coveredBy: hit && !(el === hit || el.contains(hit)) ? hit.className || hit.tagName : null,
      }
    }, selector)
    assert.ok(!result.missing, `${state}: ${selector} is shown`)
    assert.ok(result.inside, `${state}: ${selector} inside 360×640 without scrolling: ${JSON.stringify(result.rect)}`)
    assert.ok(result.own, `${state}: ${selector} is not covered (by ${result.coveredBy})`)
  }
}

/** Every rendered button, link, tab and stepper is at least 44×44 px. */
async function assertTouchTargets(page, state) {
  const small = await page.evaluate(() => {
    const targets = document.querySelectorAll(
      'button, a[href], [role="button"], .van-tabbar-item, .van-stepper__minus, .van-stepper__plus, .van-nav-bar__left, .van-checkbox, .van-radio',
    )
    const out = []
    for (const el of targets) {
      const r = el.getBoundingClientRect()
      const style = getComputedStyle(el)
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden') continue
      if (el.closest('.leaflet-control-attribution')) continue // the basemap's licence line, not an action
      if (r.width < 43.5 || r.height < 43.5)
        out.push(`${el.tagName}.${String(el.className).split(' ')[0]} "${el.textContent.trim().slice(0, 20)}" ${Math.round(r.width)}×${Math.round(r.height)}`)
    }
    return out
  })
  assert.deepEqual(small, [], `${state}: touch targets under 44 px`)
}

/** The text of an element is not cut (no overflow hidden away). */
async function assertNotCut(page, selector, state) {
  const cut = await page.evaluate((sel) => {
    const el = document.querySelector(sel)
    return el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1
  }, selector)
  assert.equal(cut, false, `${state}: ${selector} shows its whole text`)
}

/** 我的 → the language, then back to the running patrol through the home's 继续巡查. */
async function switchLanguageMidPatrol(page, lang) {
  await page.click('[data-testid="tab-me"]')
  await page.click(`[data-testid="${lang === 'en' ? 'lang-en' : 'lang-zh'}"]`)
  await page.waitForFunction((want) => document.documentElement.lang === want, lang)
  await page.click('[data-testid="tab-home"]')
  await page.click('[data-testid="start-patrol"][data-action="resume"]')
  await page.waitForSelector('[data-testid="patrol-page"][data-state="running"]')
}

async function shot(page, name) {
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/${name}.png` })
}

const fixCount = (page) =>
  page.evaluate(() => Number(document.querySelector('[data-testid="patrol-fix-count"]')?.getAttribute('data-count') ?? -1))

async function moveTo(page, context, position, n) {
  await context.setGeolocation(position)
  await page.waitForFunction(
    (want) => Number(document.querySelector('[data-testid="patrol-fix-count"]')?.getAttribute('data-count') ?? -1) >= want,
    n,
  )
}

/** Positions 1 m apart inside one of the officer's grids (a walker's pace whatever the test's speed). */
function walkIn(grid, steps) {
  const ring = grid.geometry.type === 'Polygon' ? grid.geometry.coordinates[0] : grid.geometry.coordinates[0][0]
  const lon = ring.reduce((s, p) => s + p[0], 0) / ring.length
  const lat = ring.reduce((s, p) => s + p[1], 0) / ring.length
  return Array.from({ length: steps }, (_, i) => ({ longitude: lon + i * 1.2e-5, latitude: lat, accuracy: 5 }))
}

function shanghaiNow() {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date())
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]))
  return { date: `${v.year}-${v.month}-${v.day}`, minutes: Number(v.hour) * 60 + Number(v.minute) }
}
const hhmm = (m) => `${String(Math.floor(m / 60) % 24).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`

const PRIMARY_TABS = ['[data-testid="tab-home"]', '[data-testid="tab-me"]']

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`officer screens at 360×640 on ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('home and patrol screen: idle, with a task, recording, uploads waiting offline, reloaded offline', async () => {
      const officer = await apiLogin('officer6')
      const leader = await apiLogin('leader2')
      await endRunning(officer)
      const grids = (await api('/api/v1/areas?kind=grid&page_size=1000', { token: officer.access_token })).features
      const grid = grids.filter((g) => g.geometry).sort((a, b) => b.properties.area_m2 - a.properties.area_m2)[0]
      const walk = walkIn(grid, 30)
      const context = await newPhoneContext(browser, { permissions: ['geolocation'], geolocation: walk[0] })
      const page = await context.newPage()
      await login(page, 'officer6')
      await page.waitForSelector('[data-testid="home-officer"]')
      await waitForPolygons(page)

      // idle, no task: the big start button
      await page.waitForSelector('[data-testid="start-patrol"]:not([disabled])')
      await assertOnScreen(page, ['[data-testid="start-patrol"]', ...PRIMARY_TABS], 'home idle')
      await assertTouchTargets(page, 'home idle')
      await shot(page, 'home-idle')

      // today's task: it is the primary action (按此任务巡查), the free patrol the second
      const { date, minutes } = shanghaiNow()
      const task = await api('/api/v1/tasks', {
        token: leader.access_token, method: 'POST',
        body: {
          client_id: `layout-task-${Date.now()}`, officer_id: officer.user.id, date,
          shift_start: hhmm(Math.max(0, minutes - 30)), shift_end: hhmm(minutes + 90), grid_ids: [grid.id],
          note: '河道两侧重点巡查',
        },
      })
      await page.reload()
      const primary = '[data-testid="patrol-home-card"] [data-testid="task-item"] [data-testid="task-start"]'
      await page.waitForSelector(primary)
      assert.match(await page.textContent(primary), /按此任务巡查/)
      const mine = await api(`/api/v1/tasks?date=${date}&officer=${officer.user.id}`, { token: leader.access_token })
      const shown = Number(await page.getAttribute('[data-testid="patrol-home-card"] [data-testid="task-item"]', 'data-task-id'))
      assert.ok(mine.some((x) => x.id === shown) && mine.some((x) => x.id === task.id), 'the primary action is one of today’s tasks')
      await assertOnScreen(page, [primary, '[data-testid="start-patrol"]', ...PRIMARY_TABS], 'home with a task')
      await assertTouchTargets(page, 'home with a task')
      await shot(page, 'home-task')

      // the patrol screen before starting: its big button starts today's task too, a free patrol is the second
      await page.goto('/patrol')
      const patrolStart = '[data-testid="patrol-page"][data-state="idle"] [data-testid="patrol-start"][data-task-id]:not([disabled])'
      await page.waitForSelector(patrolStart)
      assert.match(await page.textContent(patrolStart), /按此任务巡查/)
      assert.equal(Number(await page.getAttribute(patrolStart, 'data-task-id')), shown, 'the same task as the home’s')
      await assertOnScreen(page, [patrolStart, '[data-testid="patrol-start-free"]', ...PRIMARY_TABS], 'patrol idle')
      await assertTouchTargets(page, 'patrol idle')
      await shot(page, 'patrol-idle')

      // recording from the task, started on the patrol screen (the home's button is taken in patrol.test.mjs)
      await page.click(patrolStart)
      await page.waitForSelector('[data-testid="patrol-page"][data-state="running"]')
      let n = 0
      for (let i = 1; i <= 3; i++) await moveTo(page, context, walk[i], ++n)
      // uploaded by itself within seconds of the first fix (a leader's live view), not after a minute
      await page.waitForFunction(
        () => document.querySelector('[data-testid="patrol-pending"]')?.getAttribute('data-fixes') === '0',
        null,
        { timeout: 15_000 },
      )
      await assertOnScreen(page, ['[data-testid="patrol-stop"]', '[data-testid="patrol-sync"]', '[data-testid="patrol-pending"]', ...PRIMARY_TABS], 'recording')
      await assertTouchTargets(page, 'recording')
      await shot(page, 'patrol-recording')

      // offline (the service worker's way out is cut too): uploads wait, said in words
      await context.setOffline(true)
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      for (let i = 4; i <= 12; i++) await moveTo(page, context, walk[i], ++n)
      await page.click('[data-testid="patrol-sync"]')
      await page.waitForSelector('[data-testid="patrol-upload-problem"]')
      const pending = await page.textContent('[data-testid="patrol-pending"]')
      assert.match(pending, /待上传：巡查轨迹 \d+ 个点/)
      assert.doesNotMatch(pending, /· 0 项|项$/)
      const waiting = [
        '[data-testid="patrol-stop"]', '[data-testid="patrol-sync"]', '[data-testid="patrol-pending"]',
        '[data-testid="patrol-shift-note"]', '[data-testid="wake-lock-note"]', ...PRIMARY_TABS,
      ]
      await assertOnScreen(page, waiting, 'uploads waiting')
      await assertNotCut(page, '[data-testid="patrol-pending"]', 'uploads waiting')
      await assertTouchTargets(page, 'uploads waiting')
      await shot(page, 'patrol-pending-offline')

      // the same in English, whose texts are longer (the keep-screen-on warning took a third line)
      await switchLanguageMidPatrol(page, 'en')
      await expectText(page, '[data-testid="patrol-pending"]', /Not yet uploaded/)
      await assertOnScreen(page, waiting, 'uploads waiting, English')
      await assertNotCut(page, '[data-testid="patrol-pending"]', 'uploads waiting, English')
      await shot(page, 'patrol-pending-offline-en')
      await switchLanguageMidPatrol(page, 'zh-CN')

      // a reload offline: the map opens on the officer (zoomed in at the last fix), not on the whole zone
      const last = walk[12]
      await page.reload()
      await page.waitForSelector('[data-testid="patrol-page"][data-state="running"]')
      await page.waitForFunction(
        ({ lon, lat }) => {
          const m = document.querySelector('[data-testid="patrol-map"]')
          return Number(m?.dataset.zoom) >= 16 && Math.abs(Number(m.dataset.lon) - lon) < 0.002 && Math.abs(Number(m.dataset.lat) - lat) < 0.002
        },
        { lon: last.longitude, lat: last.latitude },
        { timeout: 10_000 },
      ).catch(async (err) => {
        const m = await page.evaluate(() => ({ ...document.querySelector('[data-testid="patrol-map"]')?.dataset }))
        throw new Error(`the map after an offline reload looks at ${JSON.stringify(m)}, not at the last fix ${last.longitude},${last.latitude}: ${err.message}`)
      })
      await assertOnScreen(page, ['[data-testid="patrol-stop"]', '[data-testid="patrol-sync"]', '[data-testid="offline-banner"]'], 'reloaded offline')
      await shot(page, 'patrol-reloaded-offline')

      // online again: everything goes, then the end
      await context.unroute('**/api/**')
      await context.setOffline(false)
      await page.click('[data-testid="patrol-sync"]')
      await page.waitForFunction(() => {
        const el = document.querySelector('[data-testid="patrol-pending"]')
        return el?.getAttribute('data-fixes') === '0' && el?.getAttribute('data-items') === '0'
      })
      const serverId = Number(await page.getAttribute('[data-testid="patrol-page"]', 'data-patrol-server-id'))
      const stored = await api(`/api/v1/patrols/${serverId}`, { token: officer.access_token })
      assert.equal(stored.raw_count, await fixCount(page))
      assert.equal(stored.task_id, shown, 'the patrol screen started today’s task')
      await page.click('[data-testid="patrol-stop"]')
      await page.click('.van-dialog__confirm')
      await page.waitForSelector('[data-testid="patrol-page"][data-state="ended"]')
      await page.waitForFunction(() => document.querySelector('[data-testid="patrol-pending"]')?.getAttribute('data-items') === '0')
      const ended = await api(`/api/v1/patrols/${serverId}`, { token: officer.access_token })
      assert.equal(ended.end_reason, 'user')
      await api(`/api/v1/tasks/${task.id}`, { token: leader.access_token, method: 'DELETE' }).catch(() => undefined)
      await context.close()
    })

    test('a patrol running on the server from another phone: shown, continued here, ended here', async () => {
      const officer = await apiLogin('officer7')
      await endRunning(officer)
      const startedAt = new Date(Date.now() - 20 * 60_000)
      const other = await api('/api/v1/patrols', {
        token: officer.access_token, method: 'POST',
        body: { client_id: `other-phone-${Date.now()}`, started_at: startedAt.toISOString() },
      })
      const grids = (await api('/api/v1/areas?kind=grid&page_size=1000', { token: officer.access_token })).features
      const walk = walkIn(grids.filter((g) => g.geometry)[0], 5)
      await api(`/api/v1/patrols/${other.id}/points`, {
        token: officer.access_token, method: 'POST',
        body: { batch_id: `other-${Date.now()}`, points: [{ t: new Date(Date.now() - 5 * 60_000).toISOString(), lon: walk[0].longitude, lat: walk[0].latitude, accuracy_m: 5 }] },
      })

      const context = await newPhoneContext(browser, { permissions: ['geolocation'], geolocation: walk[1] })
      const page = await context.newPage()
      await login(page, 'officer7')
      await page.waitForSelector(`[data-testid="server-patrol"][data-server-id="${other.id}"]`)
      assert.match(await page.textContent('[data-testid="server-patrol"]'), /还有一次巡查没有结束.*最后定位/)
      assert.equal(await page.locator('[data-testid="start-patrol"]').count(), 0, 'no second patrol is offered')
      await assertOnScreen(page, ['[data-testid="server-patrol-resume"]', '[data-testid="server-patrol-end"]', ...PRIMARY_TABS], 'home, running elsewhere')
      await assertTouchTargets(page, 'home, running elsewhere')
      await shot(page, 'home-running-elsewhere')

      await page.goto('/patrol')
      await page.waitForSelector('[data-testid="patrol-page"] [data-testid="server-patrol-resume"]')
      await assertOnScreen(page, ['[data-testid="server-patrol-resume"]', '[data-testid="server-patrol-end"]', ...PRIMARY_TABS], 'patrol, running elsewhere')
      await assertTouchTargets(page, 'patrol, running elsewhere')
      await shot(page, 'patrol-running-elsewhere')

      // continue it here: this phone's fixes go into that patrol; no second one is made
      await page.click('[data-testid="server-patrol-resume"]')
      await page.waitForSelector(`[data-testid="patrol-page"][data-state="running"][data-patrol-server-id="${other.id}"]`)
      // (the position the browser holds may become a fix as well, early or late: the patrol started 20 minutes ago)
      const held = await fixCount(page)
      await moveTo(page, context, walk[2], held + 1)
      await moveTo(page, context, walk[3], held + 2)
      await page.click('[data-testid="patrol-sync"]')
      await page.waitForFunction(() => document.querySelector('[data-testid="patrol-pending"]')?.getAttribute('data-fixes') === '0')
      const here = await fixCount(page)
      assert.equal((await api(`/api/v1/patrols/${other.id}`, { token: officer.access_token })).raw_count, 1 + here)
      const running = await api(`/api/v1/patrols?active=true&officer=${officer.user.id}`, { token: officer.access_token })
      assert.deepEqual(running.map((p) => p.id), [other.id])
      await assertOnScreen(page, ['[data-testid="patrol-stop"]', '[data-testid="patrol-sync"]', ...PRIMARY_TABS], 'continued here')
      await shot(page, 'patrol-continued')

      await page.click('[data-testid="patrol-stop"]')
      await page.click('.van-dialog__confirm')
      await page.waitForSelector('[data-testid="patrol-page"][data-state="ended"]')
      await page.waitForFunction(() => document.querySelector('[data-testid="patrol-pending"]')?.getAttribute('data-items') === '0')
      const ended = await api(`/api/v1/patrols/${other.id}`, { token: officer.access_token })
      assert.ok(ended.ended_at)
      assert.equal(ended.end_reason, 'user')
      await context.close()
    })
  })
}
