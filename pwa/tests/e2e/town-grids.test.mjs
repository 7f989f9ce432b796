// A street office with no zones (片区): its grids sit directly under it and its squad is assigned grids, not a zone.
// Imported through the admin API as an administrator would (town, then grids with the town as parent), then the
// squad's leader sees those grids on the home map and list, the coverage page, the planning grid picker and the
// offline map page, and the command centre's coverage page filtered by that squad shows them inside the town.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, launch, login, newPhoneContext, waitForPolygons } from './helpers.mjs'
import { api, apiLogin } from './api.mjs'

const PASSWORD = 'street-office-pass-1'
// 2 km east of the demo town: 2 × 3 street blocks of about 200 m inside a street office of 1.8 × 1.3 km
const ORIGIN = [115.64, 38.09]
const BLOCK_DEG = [0.00228, 0.0018]

function box(x0, y0, x1, y1) {
  return { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] }
}

function geojsonFile(features, name) {
  const body = JSON.stringify({ type: 'FeatureCollection', features })
  return new File([body], name, { type: 'application/geo+json' })
}

async function importAreas(token, kind, features, parent) {
  const form = new FormData()
  form.set('kind', kind)
  if (parent !== undefined) form.set('parent', String(parent))
  form.set('file', geojsonFile(features, `${kind}.geojson`))
  return (await api('POST', '/areas/import', token, form)).created_ids
}

/** The street office, its six grids, a squad assigned those grids, its leader and an officer. */
async function buildStreetOffice(adminToken) {
  const tag = `${Date.now().toString(36)}`
  const [x, y] = ORIGIN
  const [town] = await importAreas(adminToken, 'town', [
    { type: 'Feature', geometry: box(x, y, x + 0.02, y + 0.012), properties: { name: `学府街道-${tag}` } },
  ])
  const blocks = []
  for (let row = 0; row < 2; row++) {
    for (let col = 0; col < 3; col++) {
      const x0 = x + 0.004 + col * BLOCK_DEG[0]
      const y0 = y + 0.004 + row * BLOCK_DEG[1]
      blocks.push({
        type: 'Feature',
        geometry: box(x0, y0, x0 + BLOCK_DEG[0], y0 + BLOCK_DEG[1]),
        properties: { name: `学府${row + 1}-${col + 1}号网格`, code: `xf-${tag}-${row + 1}-${col + 1}` },
      })
    }
  }
  const gridIds = await importAreas(adminToken, 'grid', blocks, town)
  const squad = await api('POST', '/squads', adminToken, { name: `学府街道中队-${tag}`, area_ids: gridIds })
  const people = {}
  for (const [key, role] of [['leader', 'squad_leader'], ['officer', 'officer']]) {
    const username = `xf-${tag}-${key}`
    await api('POST', '/users', adminToken, {
      username, display_name: `学府${key === 'leader' ? '队长' : '队员'}${tag.slice(-3)}`, password: PASSWORD,
      roles: [role], squad_id: squad.id,
    })
    people[key] = username
  }
  return { town, gridIds, names: blocks.map((b) => b.properties.name), squad, people }
}

async function signIn(page, username) {
  await page.goto('/')
  await page.waitForSelector('[data-testid="login-page"]')
  await page.fill('input[name="username"]', username)
  await page.fill('input[name="password"]', PASSWORD)
  await page.click('[data-testid="login-submit"]')
}

const countOf = (page, selector) => page.evaluate((s) => document.querySelectorAll(s).length, selector)

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`a town with grids and no zones at ${BASE_URL}`, () => {
    let browser
    let office
    before(async () => {
      browser = await launch()
      office = await buildStreetOffice((await apiLogin('admin')).access_token)
    })
    after(async () => {
      await browser?.close()
    })

    test("the squad leader's home, coverage, planning and offline map show the town's grids", async () => {
      const n = office.gridIds.length
      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await signIn(page, office.people.leader)
      await page.waitForSelector('[data-testid="home-squad"]')

      // home: the six grids drawn and listed, counted as grids with no "0 zones"
      await waitForPolygons(page)
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="area-map"] path.leaflet-interactive').length === k, n)
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="area-item"]').length === k, n)
      const listed = await page.locator('[data-testid="area-item"]').allTextContents()
      for (const name of office.names) assert.ok(listed.some((text) => text.includes(name)), `${name} listed`)
      await page.waitForFunction(
        (k) => document.querySelector('[data-testid="area-counts"] [data-kind="grid"]')?.textContent.trim() === String(k),
        n,
      )
      assert.equal(await countOf(page, '[data-testid="area-counts"] [data-kind="zone"]'), 0)

      // coverage: every grid with its figure, in the list and on the map
      await page.click('[data-testid="entry-coverage"]')
      await page.waitForSelector('[data-testid="coverage-page"]')
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="coverage-grid-item"]').length === k, n)
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="leader-map"] path[data-grid-id]').length === k, n)
      const covered = await page.locator('[data-testid="coverage-grid-item"]').allTextContents()
      for (const name of office.names) assert.ok(covered.some((text) => text.includes(name) && /\d+%/.test(text)), `${name} with a figure`)
      assert.equal(await countOf(page, '[data-testid="coverage-error"]'), 0)

      // planning: the grid picker offers each grid, on the list and on the map
      await page.goto('/plan')
      await page.waitForSelector('[data-testid="plan-page"]')
      for (const id of office.gridIds) await page.waitForSelector(`[data-testid="plan-grid-${id}"]`)
      assert.equal(await countOf(page, '[data-testid="plan-grid-list"] [role="checkbox"]'), n)
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="leader-map"] path[data-grid-id]').length === k, n)
      await page.locator('[data-testid="plan-officer-chips"] button').first().waitFor()

      // offline map: the six grids are what it would download
      await page.goto('/offline-map')
      await page.waitForSelector('[data-testid="offline-map-page"]')
      await page.waitForFunction(
        (k) => document.querySelector('[data-testid="offline-grid-count"] .van-cell__value')?.textContent.trim() === `${k} 个`,
        n,
      )
      await context.close()
    })

    test("the command centre's coverage filtered by that squad shows its grids inside the town's outline", async () => {
      const n = office.gridIds.length
      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'commander1')
      await page.waitForSelector('[data-testid="home-overview"]')
      await page.click('[data-testid="entry-coverage"]')
      await page.waitForSelector('[data-testid="coverage-page"]')
      await page.locator('[data-testid="squad-chips"] button', { hasText: office.squad.name }).click()
      await page.waitForFunction(
        (ids) => {
          const items = [...document.querySelectorAll('[data-testid="coverage-grid-item"]')].map((el) => Number(el.dataset.gridId))
          return items.length === ids.length && ids.every((id) => items.includes(id))
        },
        office.gridIds,
      )
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid="leader-map"] path[data-grid-id]').length === k, n)
      // the grids hang under the town: its outline is drawn instead of a zone's
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="leader-map"] path[stroke="#374151"]').length === 1)
      assert.equal(await countOf(page, '[data-testid="leader-map"] path[stroke="#ea580c"]'), 0, 'no zone outline')
      await context.close()
    })
  })
}
