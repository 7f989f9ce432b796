// A squad leader plans a task with no network at all (the API aborted and the browser offline: setOffline alone
// does not cut service-worker traffic): the task is kept on the phone and shown as not yet uploaded, also after a
// reload offline; back online, the upload sends it and the server holds it exactly once.
// Squad 3 (leader3, officer11) is used so the other test files' figures stay theirs.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, PASSWORD, launch, login, newPhoneContext, waitForServiceWorkerControl } from './helpers.mjs'

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

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`tasks through the outbox at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('a task planned offline waits on the phone, survives a reload offline, and is stored once when back online', async () => {
      const leader = await api('/api/v1/auth/login', { method: 'POST', body: { username: 'leader3', password: PASSWORD } })
      const officer = await api('/api/v1/auth/login', { method: 'POST', body: { username: 'officer11', password: PASSWORD } })
      const grids = (await api('/api/v1/areas?kind=grid&page_size=1000', { token: leader.access_token })).features
      const grid = grids.find((g) => g.geometry)

      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'leader3')
      await page.waitForSelector('[data-testid="home-squad"]')
      await waitForServiceWorkerControl(page) // the reload offline comes from the service worker
      await page.click('[data-testid="entry-plan"]')
      await page.waitForSelector('[data-testid="plan-page"]')
      const chip = page.locator('[data-testid="plan-officer-chips"] button', { hasText: officer.user.display_name })
      await chip.waitFor()
      await page.waitForSelector(`[data-testid="plan-grid-${grid.id}"]`)
      const date = await page.inputValue('[data-testid="plan-date"]')

      // no network at all from here
      await context.setOffline(true)
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      await page.fill('[data-testid="plan-start"]', '13:00')
      await page.fill('[data-testid="plan-end"]', '15:30')
      await chip.click()
      await page.click(`[data-testid="plan-grid-${grid.id}"]`)
      await page.fill('textarea', '离线排班测试')
      await page.click('[data-testid="plan-submit"]')
      const pending = page.locator('[data-testid="plan-pending-task"]')
      await pending.waitFor()
      const clientId = await pending.getAttribute('data-client-id')
      assert.match(clientId, /^[0-9a-f-]{36}$/)
      assert.equal(await pending.getAttribute('data-state'), 'pending')
      assert.match(await pending.textContent(), /待上传/)
      assert.match(await pending.textContent(), /13:00–15:30/)
      const onServer = async () =>
        (await api(`/api/v1/tasks?date=${date}&officer=${officer.user.id}`, { token: leader.access_token })).filter((t) => t.client_id === clientId)
      assert.deepEqual(await onServer(), [], 'nothing reached the server while offline')

      // a reload while offline: still there, still pending
      await page.reload()
      await page.waitForSelector('[data-testid="plan-page"]')
      await page.waitForSelector(`[data-testid="plan-pending-task"][data-client-id="${clientId}"]`)

      // back online: the app drains by itself on `online`; the upload button is pressed as well in case that
      // event never comes (inside the page, so it cannot race the list disappearing)
      await context.unroute('**/api/**')
      await context.setOffline(false)
      await page.evaluate(() => document.querySelector('[data-testid="plan-pending-upload"]')?.click())
      await page.waitForSelector('[data-testid="plan-pending"]', { state: 'detached' })
      const stored = await onServer()
      assert.equal(stored.length, 1)
      assert.deepEqual(stored[0].grid_ids, [grid.id])
      assert.equal(stored[0].shift_start, '13:00')
      assert.equal(stored[0].note, '离线排班测试')
      await page.waitForSelector(`[data-testid="plan-task"][data-task-id="${stored[0].id}"]`)

      await api(`/api/v1/tasks/${stored[0].id}`, { token: leader.access_token, method: 'DELETE' })
      await context.close()
    })
  })
}
