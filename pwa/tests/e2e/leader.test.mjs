// The squad leader's screens in a real browser against a real server: the coverage map (after officer2 of leader1's
// squad patrolled a grid through the API, with a gap, a dropped fix and a mock fix), the offline fallback of the
// coverage page, and planning a task for officer1 (saved on the phone first; the retry after a lost answer does not
// duplicate it), then deleting it. Other test files run at the same time against the same server (officer1 patrols in patrol.test.mjs), so
// figures other tests can raise are checked as lower bounds.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, launch, login, newPhoneContext, waitForServiceWorkerControl } from './helpers.mjs'
import { api, apiLogin, patrolOneGrid, walkSplitByMidnight } from './api.mjs'

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`leader screens at ${BASE_URL}`, () => {
    let browser
    let officer
    let officerGrids
    let walker
    let leader
    before(async () => {
      browser = await launch()
      officer = await apiLogin('officer1')
      officerGrids = (await api('GET', '/areas?kind=grid&page_size=1000', officer.access_token)).features
      walker = await apiLogin('officer2')
      leader = await apiLogin('leader1')
    })
    after(async () => {
      await browser?.close()
    })

    test("coverage map: the squad's grids coloured, a legend, the covered grid, positions and a track with its gap", async (t) => {
      const split = walkSplitByMidnight()
      if (split) return t.skip(split)
      const walkerGrids = (await api('GET', '/areas?kind=grid&page_size=1000', walker.access_token)).features
      // the smallest grid: 8 rows of the walk are then close enough (R = 30 m) to cover it all
      const grid = walkerGrids.reduce((a, b) => (b.properties.area_m2 < a.properties.area_m2 ? b : a))
      const patrol = await patrolOneGrid(walker.access_token, grid)
      const expected = await api('GET', '/coverage', leader.access_token)
      assert.ok(expected.items.length > 1)
      const covered = expected.items.find((i) => i.grid_id === grid.id)
      assert.ok(covered && covered.covered_ratio >= 0.8, `the server counts the patrol: ${JSON.stringify(covered)}`)

      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'leader1')
      await page.waitForSelector('[data-testid="home-squad"]')
      await page.click('[data-testid="entry-coverage"]')
      await page.waitForSelector('[data-testid="coverage-page"]')

      // every grid of the squad listed and drawn
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="coverage-grid-item"]').length === n, expected.items.length)
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="leader-map"] path[data-grid-id]').length === n, expected.items.length)
      // a legend with the colour steps and the overlay marks
      const legend = await page.textContent('[data-testid="coverage-legend"]')
      for (const label of ['网格覆盖率', '0–20%', '≥80%', '无数据', '已覆盖', '未覆盖']) assert.ok(legend.includes(label), `legend has ${label}`)
      // the patrolled grid: its share in the list and a green fill on the map
      const item = page.locator(`[data-testid="coverage-grid-item"][data-grid-id="${grid.id}"]`)
      assert.match(await item.textContent(), new RegExp(`${grid.properties.name}[\\s\\S]*巡查 [1-9]\\d* 次 · [1-9]\\d* 人[\\s\\S]*\\d+%`))
      // the grid is drawn before the figures arrive (plain blue), then restyled
      await page.waitForFunction(
        (id) => document.querySelector(`[data-testid="leader-map"] path[data-grid-id="${id}"]`)?.getAttribute('fill') === '#15803d',
        grid.id,
      )
      assert.equal(await page.getAttribute(`[data-testid="leader-map"] path[data-grid-id="${grid.id}"]`, 'fill'), '#15803d')
      assert.match(await page.textContent('[data-testid="coverage-summary"]'), /\d+%/)
      // the uncovered cells overlay: tiles fetched with the token, shown as blob: URLs. Cells show zoomed in only
      // (at zone zoom they were a red sheet over the grid colours), so the grid is tapped in the list first.
      await item.click()
      await page.waitForFunction(() => document.querySelector('[data-testid="leader-map"]')?.dataset.mode === 'cells')
      await page.waitForFunction(
        () => [...document.querySelectorAll('.gp-coverage-tiles img')].some((img) => img.src.startsWith('blob:') && img.naturalWidth === 256),
        null,
        { timeout: 20_000 },
      )

      // officers' last positions; tapping officer2 shows the track with the gap dashed and the dropped fix marked
      const officerItem = page.locator('[data-testid="officer-item"]', { hasText: walker.user.display_name })
      await officerItem.waitFor()
      assert.match(await officerItem.textContent(), /巡查中/)
      await officerItem.click()
      await page.waitForSelector('[data-testid="track-panel"] [data-testid="track-gaps"]')
      assert.match(await page.textContent('[data-testid="track-gaps"]'), /1 段/)
      assert.match(await page.textContent('[data-testid="track-dropped"]'), /精度差 1/)
      assert.match(await page.textContent('[data-testid="track-flags"]'), /模拟定位 1 点/)
      await page.waitForSelector('[data-testid="leader-map"] path.gp-track')
      const gap = page.locator('[data-testid="leader-map"] path.gp-gap')
      assert.equal(await gap.count(), 1)
      assert.equal(await gap.getAttribute('stroke-dasharray'), '2 8')
      assert.equal(await gap.getAttribute('stroke'), '#f59e0b')
      assert.equal(await page.locator('[data-testid="leader-map"] path.gp-dropped').count(), 1)
      // the mock fix is kept (it counts) but marked on the map for the leader to judge
      assert.equal(await page.locator('[data-testid="leader-map"] path.gp-flagged').count(), 1)

      // "not visited for N days": the patrolled grid is not among them, the others are
      await page.click('[data-testid="unvisited-switch"]')
      await page.waitForSelector('[data-testid="unvisited-item"]')
      const unvisited = await page.locator('[data-testid="unvisited-item"]').allTextContents()
      assert.ok(unvisited.length > 0 && unvisited.length < expected.items.length)
      assert.ok(unvisited.every((text) => /从未巡查|\d+ 天前/.test(text)))
      assert.ok(!unvisited.some((text) => text.includes(grid.properties.name)), 'the patrolled grid was visited')

      // offline: the last coverage fetched, with its time, marked stale
      await waitForServiceWorkerControl(page)
      await page.waitForSelector('[data-testid="coverage-grid-item"]')
      await context.route('**/api/**', (route) => route.abort('internetdisconnected'))
      await context.setOffline(true)
      await page.reload()
      await page.waitForSelector('[data-testid="coverage-stale"]')
      assert.match(await page.textContent('[data-testid="coverage-stale"]'), /离线：显示的是 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 获取的数据，可能已过时/)
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="coverage-grid-item"]').length === n, expected.items.length)
      assert.match(await page.locator(`[data-testid="coverage-grid-item"][data-grid-id="${grid.id}"]`).textContent(), /巡查 [1-9]\d* 次/)
      await context.close()
      await api('POST', `/patrols/${patrol.id}/end`, walker.access_token, {})
    })

    test('planning: leader1 gives officer1 a shift with grids; a retry after a lost answer makes no duplicate; delete', async () => {
      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'leader1')
      await page.waitForSelector('[data-testid="home-squad"]')
      await page.click('[data-testid="entry-plan"]')
      await page.waitForSelector('[data-testid="plan-page"]')
      const date = await page.inputValue('[data-testid="plan-date"]')
      assert.match(date, /^\d{4}-\d{2}-\d{2}$/)
      const before = await api('GET', `/tasks?date=${date}`, leader.access_token)

      await page.fill('[data-testid="plan-start"]', '09:00')
      await page.fill('[data-testid="plan-end"]', '11:30')
      await page.locator('[data-testid="plan-officer-chips"] button', { hasText: officer.user.display_name }).click()
      const [g1, g2, g3] = officerGrids
      await page.click(`[data-testid="plan-grid-${g1.id}"]`)
      await page.click(`[data-testid="plan-grid-${g2.id}"]`)
      // and one tapped on the map
      await page.locator(`[data-testid="leader-map"] path[data-grid-id="${g3.id}"]`).dispatchEvent('click')
      await page.waitForFunction(() => /已选 3 个网格/.test(document.querySelector('[data-testid="plan-grid-count"]')?.textContent ?? ''))

      // the server creates the task but the answer is lost on the way back
      let posts = 0
      await context.route('**/api/v1/tasks', async (route) => {
        if (route.request().method() !== 'POST') return route.continue()
        posts += 1
        if (posts === 1) {
          await route.fetch()
          return route.abort('connectionreset')
        }
        return route.continue()
      })
      await page.click('[data-testid="plan-submit"]')
      // saved on the phone and shown as not yet uploaded (the outbox keeps it), not "not created, tap again"
      await page.waitForSelector('[data-testid="plan-pending-task"]')
      // pressed inside the page: the outbox's own timer may have sent it already, and the button gone with it
      await page.evaluate(() => document.querySelector('[data-testid="plan-pending-upload"]')?.click())
      await page.waitForSelector('text=任务已创建')
      await page.waitForSelector('[data-testid="plan-pending"]', { state: 'detached' })
      assert.equal(posts, 2)

      const task = page.locator('[data-testid="plan-task"]', { hasText: officer.user.display_name })
      await task.waitFor()
      assert.equal(await task.count(), 1, 'one task, not two')
      const text = await task.textContent()
      assert.match(text, /09:00–11:30/)
      assert.match(text, /3 个网格/)
      assert.ok(text.includes(g1.properties.name) && text.includes(g3.properties.name))
      assert.match(text, /目标 80%/)
      assert.match(text, /最少巡查 \d\/1 次/)
      const afterCreate = await api('GET', `/tasks?date=${date}`, leader.access_token)
      assert.equal(afterCreate.length, before.length + 1)
      const created = afterCreate.find((t) => !before.some((b) => b.id === t.id))
      assert.deepEqual(created.grid_ids, [g1.id, g2.id, g3.id].sort((a, b) => a - b))
      assert.equal(created.officer_id, officer.user.id)
      assert.equal(created.coverage_target, 0.8)
      assert.equal(created.min_visits, 1)

      // delete it again
      await task.locator('[data-testid="plan-task-delete"]').click()
      await page.getByRole('button', { name: '删除' }).last().click()
      await page.waitForFunction(
        (name) => ![...document.querySelectorAll('[data-testid="plan-task"]')].some((el) => el.textContent.includes(name)),
        officer.user.display_name,
      )
      assert.equal((await api('GET', `/tasks?date=${date}`, leader.access_token)).length, before.length)
      await context.close()
    })
  })
}
