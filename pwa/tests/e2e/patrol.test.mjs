// Browser test of the officer's patrol screen against a real server: a patrol walked with an emulated position,
// offline in the middle (setOffline does not cut service-worker traffic, so the API is aborted as well), a reload
// while offline, an upload whose answer is lost, then online again. The server must hold every fix the page
// recorded exactly once, and the coverage the page shows must be the server's.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import {
  BASE_URL, MISSING_URL_MESSAGE, PASSWORD, launch, login, newPhoneContext, waitForPolygons, waitForServiceWorkerControl,
} from './helpers.mjs'

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

async function apiLogin(username) {
  return (await api('/api/v1/auth/login', { method: 'POST', body: { username, password: PASSWORD } })).access_token
}

function inRing([x, y], ring) {
  let inside = false
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]
    const [xj, yj] = ring[j]
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside
  }
  return inside
}

function inGrid(p, geometry) {
  const rings = geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.flat()
  return rings.reduce((inside, ring) => (inRing(p, ring) ? !inside : inside), false)
}

/** A walk of `steps` fixes, `stepM` metres apart, west to east through the middle of one of the officer's grids. */
function walkThroughAGrid(features, steps, stepM) {
  const mPerDegLat = 111_195
  for (const f of features.filter((g) => g.geometry).sort((a, b) => a.properties.area_m2 - b.properties.area_m2)) {
    if (f.properties.area_m2 < 40_000) continue
    const pts = (f.geometry.type === 'Polygon' ? f.geometry.coordinates : f.geometry.coordinates.flat()).flat()
    const lon0 = (Math.min(...pts.map((p) => p[0])) + Math.max(...pts.map((p) => p[0]))) / 2
    const lat0 = (Math.min(...pts.map((p) => p[1])) + Math.max(...pts.map((p) => p[1]))) / 2
    const mPerDegLon = mPerDegLat * Math.cos((lat0 * Math.PI) / 180)
    const walk = Array.from({ length: steps }, (_, i) => [lon0 + ((i - steps / 2) * stepM) / mPerDegLon, lat0])
    // 40 m of margin north and south, so the whole walk and its 30 m band lie in this grid
    const margin = [lat0 + 40 / mPerDegLat, lat0 - 40 / mPerDegLat]
    if (walk.every((p) => inGrid(p, f.geometry) && margin.every((lat) => inGrid([p[0], lat], f.geometry)))) {
      return { grid: f, walk: walk.map(([longitude, latitude]) => ({ longitude, latitude, accuracy: 5 })) }
    }
  }
  throw new Error('no grid of officer1 holds the test walk')
}

const fixCount = async (page) => Number(await page.getAttribute('[data-testid="patrol-fix-count"]', 'data-count'))

async function waitForFixCount(page, atLeast, timeout = 10_000) {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="patrol-fix-count"]')?.getAttribute('data-count') ?? -1) >= n,
    atLeast,
    { timeout },
  )
  return fixCount(page)
}

/** What IndexedDB holds for the patrol: fixes (and how many distinct times) and outbox items. */
function localState(page, clientId) {
  return page.evaluate(
    (id) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('gridpatrol')
        open.onerror = () => reject(open.error)
        open.onsuccess = () => {
          const tx = open.result.transaction(['patrolFixes', 'outbox'], 'readonly')
          const fixes = tx.objectStore('patrolFixes').getAll(IDBKeyRange.bound([id, -Infinity], [id, Infinity]))
          const outbox = tx.objectStore('outbox').getAll()
          tx.oncomplete = () => {
            const rows = fixes.result
            resolve({
              fixes: rows.length,
              distinctTimes: new Set(rows.map((r) => r.t)).size,
              notUploaded: rows.filter((r) => r.uploaded !== 1).length,
              outbox: outbox.result.length,
            })
            open.result.close()
          }
        }
      }),
    clientId,
  )
}

/** Press the upload button until nothing of this patrol waits (a drain stops at the first network error). */
async function uploadAll(page, timeout = 20_000) {
  const deadline = Date.now() + timeout
  for (;;) {
    await page.click('[data-testid="patrol-sync"]')
    const done = await page
      .waitForFunction(() => {
        const el = document.querySelector('[data-testid="patrol-pending"]')
        return el?.getAttribute('data-fixes') === '0' && el?.getAttribute('data-items') === '0'
      }, null, { timeout: 2_000 })
      .then(() => true, () => false)
    if (done) return
    if (Date.now() > deadline) throw new Error('uploads did not finish')
  }
}

function shanghaiNow() {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date())
  const v = Object.fromEntries(parts.map((p) => [p.type, p.value]))
  return { date: `${v.year}-${v.month}-${v.day}`, minutes: Number(v.hour) * 60 + Number(v.minute) }
}

const hhmm = (m) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`patrol screen at ${BASE_URL}`, () => {
    let browser
    let officerToken
    let grids
    before(async () => {
      browser = await launch()
      officerToken = await apiLogin('officer1')
      grids = (await api('/api/v1/areas?kind=grid&page_size=1000', { token: officerToken })).features
    })
    after(async () => {
      await browser?.close()
    })

    test('offline mid-patrol, reload, lost answer: the server has every recorded fix once and the coverage shown', async () => {
      // Half a metre a step: however fast the test runs (a fix every 16 ms at the most), that is under the server's
      // 50 m/s spike rule, so the test needs no pause to look like a walker.
      const { grid, walk } = walkThroughAGrid(grids, 24, 0.5)
      const context = await newPhoneContext(browser, { permissions: ['geolocation'], geolocation: walk[0] })
      const page = await context.newPage()
      await login(page, 'officer1')
      await page.waitForSelector('[data-testid="home-officer"]')
      await waitForPolygons(page) // the areas are synced: the patrol page draws the grids offline too
      await waitForServiceWorkerControl(page) // the shell must come from the service worker after an offline reload

      await page.click('[data-testid="start-patrol"]')
      await page.waitForSelector('[data-testid="patrol-page"][data-state="running"]')
      const clientId = await page.getAttribute('[data-testid="patrol-page"]', 'data-patrol-client-id')
      // The emulated position set before the start carries its old time: the page keeps nothing from before
      // the start. Each new position is one fix.
      assert.equal(await fixCount(page), 0)
      let n = 0
      let step = 0
      const move = async () => {
        await context.setGeolocation(walk[step++])
        n = await waitForFixCount(page, n + 1)
      }

      for (let i = 0; i < 5; i++) await move()
      await uploadAll(page) // the first batch goes online
      assert.match(await page.getAttribute('[data-testid="patrol-page"]', 'data-patrol-server-id'), /^\d+$/)

      // offline: the browser and the service worker's way out both cut
      await context.setOffline(true)
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      for (let i = 0; i < 5; i++) await move()
      await page.click('[data-testid="patrol-sync"]') // cut while offline: the batch waits in the outbox
      await page.waitForSelector('[data-testid="patrol-upload-problem"]')
      const beforeReload = n

      await page.reload()
      await page.waitForSelector('[data-testid="patrol-page"][data-state="running"]')
      assert.equal(await page.getAttribute('[data-testid="patrol-page"]', 'data-patrol-client-id'), clientId)
      n = await waitForFixCount(page, beforeReload) // restored from IndexedDB
      // the browser hands the current position to the new page: once it has been handled, it must not be a new fix
      await page.waitForSelector('[data-testid="patrol-page"]:not([data-positions-seen="0"])')
      assert.equal(await fixCount(page), beforeReload, 'the position given again after the reload is not a new fix')
      for (let i = 0; i < 5; i++) await move()
      assert.ok(Number(await page.getAttribute('[data-testid="patrol-pending"]', 'data-fixes')) > 0)

      // online again; the first answer to a batch is lost after the server stored it
      await context.unroute('**/api/**')
      let lost = 0
      await context.route('**/api/v1/patrols/*/points', async (route) => {
        if (lost++ === 0) {
          await route.fetch()
          return route.abort('connectionreset')
        }
        return route.continue()
      })
      await context.setOffline(false)
      for (let i = 0; i < 4; i++) await move()
      await uploadAll(page)
      assert.ok(lost >= 2, `the lost batch was sent again (${lost} requests)`)

      await page.click('[data-testid="patrol-stop"]')
      await page.click('.van-dialog__confirm')
      await page.waitForSelector('[data-testid="patrol-page"][data-state="ended"]')
      await uploadAll(page)
      await page.waitForSelector('[data-testid="patrol-coverage"][data-source="server"]', { timeout: 15_000 })

      const recorded = await fixCount(page)
      const local = await localState(page, clientId)
      assert.deepEqual(local, { fixes: recorded, distinctTimes: recorded, notUploaded: 0, outbox: 0 })
      assert.equal(recorded, step, `one fix per position: ${recorded} fixes for ${step} positions`)

      const serverId = Number(await page.getAttribute('[data-testid="patrol-page"]', 'data-patrol-server-id'))
      const patrol = await api(`/api/v1/patrols/${serverId}`, { token: officerToken })
      assert.equal(patrol.client_id, clientId)
      assert.ok(patrol.ended_at, 'ended on the server')
      assert.equal(patrol.raw_count, recorded, 'every recorded fix stored exactly once')

      const shownGrid = Number(await page.getAttribute('[data-testid="patrol-coverage"]', 'data-grid-id'))
      assert.equal(shownGrid, grid.id)
      const shown = (await page.textContent('[data-testid="patrol-coverage-value"]')).trim()
      const { items } = await api(`/api/v1/patrols/${serverId}/coverage`, { token: officerToken })
      const item = items.find((i) => i.grid_id === grid.id)
      assert.ok(item && item.covered_ratio > 0, `the server counts coverage in grid ${grid.id}`)
      assert.equal(shown, `${Math.round(item.covered_ratio * 100)}%`)
      await context.close()
    })

    test("a patrol started from today's task takes the task and its shift end", async () => {
      const leaderToken = await apiLogin('leader1')
      const me = await api('/api/v1/me', { token: officerToken })
      const { date, minutes } = shanghaiNow()
      const { grid, walk } = walkThroughAGrid(grids, 4, 6)
      const task = await api('/api/v1/tasks', {
        token: leaderToken,
        method: 'POST',
        body: {
          client_id: `e2e-task-${Date.now()}`, officer_id: me.user.id, date,
          shift_start: hhmm(Math.max(0, minutes - 60)), shift_end: hhmm((minutes + 60) % 1440), // past midnight: next day
          grid_ids: [grid.id], coverage_target: 0.5, note: '测试任务',
        },
      })

      const context = await newPhoneContext(browser, { permissions: ['geolocation'], geolocation: walk[0] })
      const page = await context.newPage()
      await login(page, 'officer1')
      const item = page.locator(`[data-testid="task-item"][data-task-id="${task.id}"]`)
      await item.waitFor()
      assert.match(await item.textContent(), /测试任务/)
      await item.locator('[data-testid="task-start"]').click()
      await page.waitForSelector('[data-testid="patrol-page"][data-state="running"]')
      await page.waitForSelector('[data-testid="patrol-shift-note"]')
      await context.setGeolocation(walk[1])
      await waitForFixCount(page, 1)
      await uploadAll(page)
      const serverId = Number(await page.getAttribute('[data-testid="patrol-page"]', 'data-patrol-server-id'))
      const patrol = await api(`/api/v1/patrols/${serverId}`, { token: officerToken })
      assert.equal(patrol.task_id, task.id)
      assert.deepEqual(patrol.grid_ids, [grid.id])
      assert.equal(Date.parse(patrol.shift_ends_at), Date.parse(task.ends_at))
      await page.click('[data-testid="patrol-stop"]')
      await page.click('.van-dialog__confirm')
      await page.waitForSelector('[data-testid="patrol-page"][data-state="ended"]')
      await uploadAll(page)
      await context.close()
    })
  })
}
