// The leader's coverage map shows the legend's colours, measured on the screen: after officer2 walked one grid, the
// rendered pixels of a grid at zone zoom, of a covered and an uncovered cell zoomed in, and of the grid colours
// zoomed in with the cells switched off, each equal the legend swatch for it (no basemap: the plain background).
// Tapping the grid in the list brings the map into view. Pixels are read from Chromium's own screenshots.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, launch, login, newPhoneContext } from './helpers.mjs'
import { api, apiLogin, patrolOneGrid, walkSplitByMidnight } from './api.mjs'
import { blockAt, colourDistance, decodePng, hex, pixelAt } from './pixels.mjs'

const DPR = 2
// channel difference allowed between a swatch and the map: rounding of alpha compositing
const TOLERANCE = 3

/** Points of the map where a grid of `gridIds` is on top, clear of markers and labels, and 6 px inside it. */
function clearPoints(page, gridIds) {
  return page.evaluate((ids) => {
    const map = document.querySelector('[data-testid="leader-map"]').getBoundingClientRect()
    const bottom = Math.min(map.bottom, document.querySelector('.van-tabbar')?.getBoundingClientRect().top ?? innerHeight)
    const blockers = [...document.querySelectorAll('.leaflet-tooltip, .leaflet-control, path.gp-officer, .leaflet-marker-icon')]
      .map((el) => el.getBoundingClientRect())
    const gridAt = (x, y) => document.elementFromPoint(x, y)?.closest?.('path[data-grid-id]')?.getAttribute('data-grid-id')
    const out = []
    for (let y = Math.max(0, map.top) + 8; y < bottom - 8; y += 5) {
      for (let x = map.left + 8; x < map.right - 8; x += 5) {
        const id = gridAt(x, y)
        if (!id || !ids.includes(Number(id))) continue
        if ([[-6, -6], [6, -6], [-6, 6], [6, 6]].some(([dx, dy]) => gridAt(x + dx, y + dy) !== id)) continue
        if (blockers.some((r) => x > r.left - 8 && x < r.right + 8 && y > r.top - 8 && y < r.bottom + 8)) continue
        out.push({ x, y, id: Number(id) })
      }
    }
    return out
  }, gridIds)
}

/** The first of `points` whose block on the screenshot is one colour (no edge, no label in it). */
function uniformColourAt(image, points, what) {
  for (const p of points) {
    const block = blockAt(image, p.x * DPR, p.y * DPR, 4)
    if (block.uniform) return { ...p, colour: block.colour }
  }
  assert.fail(`no clear, one-coloured point found for ${what} among ${points.length} candidates`)
}

async function swatchColour(page, key) {
  const swatch = page.locator(`[data-testid="legend-swatch"][data-key="${key}"]`)
  const image = decodePng(await swatch.screenshot())
  return pixelAt(image, image.width / 2, image.height / 2)
}

function assertSameColour(drawn, swatch, what) {
  assert.ok(
    colourDistance(drawn, swatch) <= TOLERANCE,
    `${what}: the map draws ${hex(drawn)}, the legend shows ${hex(swatch)}`,
  )
}

/** The map is inside the viewport above the tab bar and the page has stopped scrolling. */
async function waitForMapInView(page) {
  await page.waitForFunction(
    () =>
      new Promise((resolve) => {
        const y = scrollY
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            const r = document.querySelector('[data-testid="leader-map"]').getBoundingClientRect()
            const tabTop = document.querySelector('.van-tabbar')?.getBoundingClientRect().top ?? innerHeight
            resolve(scrollY === y && r.top >= 0 && r.bottom <= tabTop + 1)
          }),
        )
      }),
  )
}

/** Leaflet has finished zooming and every tile of the cell layer is loaded and faded in (or there is none). */
async function waitForMapSettled(page, { cells }) {
  await page.waitForFunction(
    (wantCells) => {
      const map = document.querySelector('[data-testid="leader-map"]')
      if (map.dataset.mode !== (wantCells ? 'cells' : 'grids')) return false
      if (map.querySelector('.leaflet-zoom-anim, .leaflet-pan-anim')) return false
      const tiles = [...map.querySelectorAll('.gp-coverage-tiles img')]
      if (!wantCells) return tiles.length === 0
      return tiles.length > 0 && tiles.every((img) => img.classList.contains('leaflet-tile-loaded') && img.style.opacity === '1')
    },
    cells,
    { timeout: 30_000 },
  )
}

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`coverage colours at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    test('grid and cell colours on the screen equal the legend at zone zoom and zoomed in', async (t) => {
      const split = walkSplitByMidnight()
      if (split) return t.skip(split)
      const walker = await apiLogin('officer2')
      const leader = await apiLogin('leader1')
      const walkerGrids = (await api('GET', '/areas?kind=grid&page_size=1000', walker.access_token)).features
      const grid = walkerGrids.reduce((a, b) => (b.properties.area_m2 < a.properties.area_m2 ? b : a))
      const patrol = await patrolOneGrid(walker.access_token, grid)
      // officer2's coverage only: other tests' patrols (other officers) cannot change it
      const figures = await api('GET', `/coverage?officer=${walker.user.id}`, leader.access_token)
      const walked = figures.items.find((i) => i.grid_id === grid.id)
      assert.ok(walked.covered_ratio >= 0.8, `the walked grid is covered: ${JSON.stringify(walked)}`)
      const untouched = figures.items.filter((i) => i.patrols === 0 && i.covered_ratio === 0).map((i) => i.grid_id)
      assert.ok(untouched.length > 10)

      const context = await newPhoneContext(browser)
      const page = await context.newPage()
      await login(page, 'leader1')
      await page.waitForSelector('[data-testid="home-squad"]')
      await page.click('[data-testid="entry-coverage"]')
      await page.waitForSelector('[data-testid="coverage-page"]')
      await page.locator('[data-testid="officer-chips"] button', { hasText: walker.user.display_name }).click()
      const item = page.locator(`[data-testid="coverage-grid-item"][data-grid-id="${grid.id}"]`)
      // the list holds officer2's figures: the walked grid visited, the untouched ones not
      await page.waitForFunction(
        ([id, zero, n]) => {
          const items = [...document.querySelectorAll('[data-testid="coverage-grid-item"]')]
          const text = (gridId) => items.find((el) => el.dataset.gridId === String(gridId))?.textContent ?? ''
          return items.length === n && /巡查 [1-9]/.test(text(id)) && zero.every((z) => /本期未巡查/.test(text(z)))
        },
        [grid.id, untouched, figures.items.length],
      )

      // zone zoom: grid colours, no cells (a red sheet of cells at this zoom was the defect)
      await waitForMapSettled(page, { cells: false })
      assert.equal(await page.getAttribute('[data-testid="coverage-legend"]', 'data-mode'), 'grids')
      const zone = decodePng(await page.screenshot())
      const zeroGrid = uniformColourAt(zone, await clearPoints(page, untouched), 'a grid at 0 % at zone zoom')
      assertSameColour(zeroGrid.colour, await swatchColour(page, 'grid-0'), 'a grid at 0 % at zone zoom')

      // tapping the walked grid in the list (far below the map) scrolls the map into view and zooms to the cells
      await page.locator('[data-testid="coverage-grid-list"]').scrollIntoViewIfNeeded()
      await item.click()
      await waitForMapInView(page)
      await waitForMapSettled(page, { cells: true })
      assert.equal(await page.getAttribute('[data-testid="coverage-legend"]', 'data-mode'), 'cells')
      const street = decodePng(await page.screenshot())
      const covered = uniformColourAt(street, await clearPoints(page, [grid.id]), 'a covered cell')
      const uncovered = uniformColourAt(street, await clearPoints(page, untouched), 'an uncovered cell')
      assertSameColour(covered.colour, await swatchColour(page, 'cell-covered'), 'a covered cell')
      assertSameColour(uncovered.colour, await swatchColour(page, 'cell-uncovered'), 'an uncovered cell')
      assert.ok(colourDistance(covered.colour, uncovered.colour) > 40, 'covered and uncovered cells look different')

      // the cells switched off at the same zoom: the grids carry their colours again, as the legend shows them
      await page.click('[data-testid="overlay-switch"]')
      await page.evaluate(() => document.querySelector('[data-testid="leader-map"]').scrollIntoView({ block: 'center' }))
      await waitForMapInView(page)
      await waitForMapSettled(page, { cells: false })
      assert.equal(await page.getAttribute('[data-testid="coverage-legend"]', 'data-mode'), 'grids')
      const grids = decodePng(await page.screenshot())
      const green = uniformColourAt(grids, await clearPoints(page, [grid.id]), 'the walked grid')
      const red = uniformColourAt(grids, await clearPoints(page, untouched), 'a grid nobody walked')
      assertSameColour(green.colour, await swatchColour(page, 'grid-4'), 'the walked grid (≥ 80 %)')
      assertSameColour(red.colour, await swatchColour(page, 'grid-0'), 'a grid nobody walked (0 %)')

      await context.close()
      await api('POST', `/patrols/${patrol.id}/end`, walker.access_token, {})
    })
  })
}
