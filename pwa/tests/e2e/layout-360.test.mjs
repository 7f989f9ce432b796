// Every screen but the officer's home and patrol (patrol tests check those), at 360×640 for each role that has it:
// each primary action lies inside the viewport without scrolling and is not covered (by the tab bar or anything
// else: the element at its centre is the action itself), and every visible button, link, tab, chip, checkbox,
// switch and stepper button is at least 44×44 px.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE_URL, MISSING_URL_MESSAGE, launch, login, newPhoneContext } from './helpers.mjs'

const MIN_TARGET_PX = 44

const TABS = ['[data-testid="tab-home"]', '[data-testid="tab-me"]']

/** What each screen is for, how to know it has loaded, and its primary actions. */
const SCREENS = {
  home: {
    path: '/',
    ready: {
      squad: '[data-testid="home-squad"] path.leaflet-interactive',
      overview: '[data-testid="home-overview"] path.leaflet-interactive',
      supervisor: '[data-testid="home-supervisor"] path.leaflet-interactive',
      department: '[data-testid="home-department"]',
    },
    actions: {
      squad: ['[data-testid="entry-coverage"]', '[data-testid="entry-case-map"]', '[data-testid="entry-plan"]',
        '[data-testid="entry-offline-map"]'],
      overview: ['[data-testid="entry-coverage"]', '[data-testid="entry-case-map"]', '[data-testid="entry-plan"]',
        '[data-testid="entry-offline-map"]'],
      supervisor: ['[data-testid="home-report"]', '[data-testid="area-map"] .leaflet-control-zoom-in'],
      department: [],
    },
  },
  coverage: {
    path: '/coverage',
    ready: '[data-testid="coverage-grid-item"]',
    actions: [
      '[data-testid="period-tabs"] .van-tab:nth-child(1)',
      '[data-testid="period-tabs"] .van-tab:nth-child(4)',
      '[data-testid="coverage-page"] .van-nav-bar__left',
      '[data-testid="coverage-page"] .van-nav-bar__right',
      '[data-testid="officer-chips"] button:first-child',
      '[data-testid="leader-map"] .leaflet-control-zoom-in',
      '[data-testid="leader-map"] .leaflet-control-zoom-out',
    ],
  },
  caseMap: {
    path: '/cases/map',
    ready: '[data-testid="case-map-page"][data-state="ready"] [data-testid="case-map"][data-markers]',
    actions: [
      '[data-testid="case-map-page"] .van-nav-bar__left',
      '[data-testid="case-map-page"] .van-nav-bar__right',
      '[data-testid="case-state"] button:first-child',
      '[data-testid="case-overdue-only"]',
      '[data-testid="case-category"]',
      '[data-testid="case-source"]',
      '[data-testid="case-map"] .leaflet-control-zoom-in',
      '[data-testid="case-map"] .leaflet-control-zoom-out',
    ],
  },
  plan: {
    path: '/plan',
    ready: '[data-testid="plan-grid-list"] [role="checkbox"]',
    actions: [
      '[data-testid="plan-page"] .van-nav-bar__left',
      '[data-testid="plan-date"]',
      '[data-testid="plan-start"]',
      '[data-testid="plan-end"]',
      '[data-testid="plan-submit"]',
    ],
  },
  me: {
    path: '/me',
    ready: '[data-testid="me-page"]',
    actions: ['[data-testid="lang-zh"]', '[data-testid="lang-en"]', '[data-testid="sync-now"]', '[data-testid="logout"]'],
  },
  report: {
    path: '/report',
    tabs: false, // its own bottom bar holds the send button
    ready: '[data-testid="report-page"]',
    actions: ['[data-testid="report-page"] .van-nav-bar__left', '[data-testid="report-camera"]',
      '[data-testid="report-category"]', '[data-testid="report-send"]'],
  },
  cases: {
    path: '/cases',
    ready: '[data-testid="cases-inbox"]',
    actions: ['[data-testid="tab-cases"]'],
  },
  offlineMap: {
    path: '/offline-map',
    ready: '[data-testid="offline-map-page"] [data-testid="tile-count"]',
    actions: ['[data-testid="offline-map-page"] .van-nav-bar__left', '[data-testid="download-start"]'],
  },
}

const ROLES = [
  { username: 'leader1', home: 'squad', screens: ['home', 'coverage', 'caseMap', 'plan', 'report', 'cases', 'me', 'offlineMap'] },
  { username: 'commander1', home: 'overview', screens: ['home', 'coverage', 'caseMap', 'plan', 'me', 'offlineMap'] },
  { username: 'admin', home: 'overview', screens: ['home', 'coverage', 'caseMap', 'plan', 'me', 'offlineMap'] },
  { username: 'supervisor1', home: 'supervisor', screens: ['home', 'report', 'cases', 'me', 'offlineMap'] },
  { username: 'dept1', home: 'department', screens: ['home', 'cases', 'me', 'offlineMap'] },
]

/** For each action: inside the viewport and the element at its centre is the action (or inside it). */
function placementProblems(page, selectors) {
  return page.evaluate((list) => {
    const problems = []
    for (const selector of list) {
      const el = document.querySelector(selector)
      if (!el) {
        problems.push(`${selector}: missing`)
        continue
      }
      const r = el.getBoundingClientRect()
      if (r.top < 0 || r.left < 0 || r.bottom > innerHeight + 0.5 || r.right > innerWidth + 0.5) {
        problems.push(`${selector}: outside the viewport (${Math.round(r.left)},${Math.round(r.top)})–(${Math.round(r.right)},${Math.round(r.bottom)})`)
        continue
      }
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
      if (!hit || !(el === hit || el.contains(hit))) {
        const by = hit?.closest('[data-testid]')?.getAttribute('data-testid') ?? hit?.className ?? 'nothing'
        problems.push(`${selector}: covered by ${by}`)
      }
    }
    return problems
  }, selectors)
}

/** Every rendered control smaller than the minimum, named by its test id, text or class. */
function smallTargets(page) {
  return page.evaluate((min) => {
    const selector = [
      'button', 'a[href]', 'input:not([type="hidden"])', 'select', 'textarea', '[role="button"]', '[role="tab"]',
      '[role="radio"]', '[role="checkbox"]', '[role="switch"]', '.van-stepper__minus', '.van-stepper__plus',
      '.van-nav-bar__left', '.van-nav-bar__right',
    ].join(',')
    const seen = new Set()
    const small = []
    for (const found of document.querySelectorAll(selector)) {
      // a text field's target is its whole field row, which a tap anywhere focuses
      const el = found.closest('.van-field') ?? found
      if (seen.has(el)) continue
      seen.add(el)
      const style = getComputedStyle(el)
      const r = el.getBoundingClientRect()
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || el.closest('[aria-hidden="true"]')) continue
      if (r.width + 0.5 < min || r.height + 0.5 < min) {
        const name = el.getAttribute('data-testid') ?? el.closest('[data-testid]')?.getAttribute('data-testid') ?? ''
        small.push(`${name} <${el.tagName.toLowerCase()} class="${el.className}">${(el.textContent ?? '').trim().slice(0, 20)}: ${Math.round(r.width)}×${Math.round(r.height)}`)
      }
    }
    return small
  }, MIN_TARGET_PX)
}

if (!BASE_URL) {
  test('GRIDPATROL_URL must point at a running server', () => {
    assert.fail(MISSING_URL_MESSAGE)
  })
} else {
  describe(`layout at 360×640 at ${BASE_URL}`, () => {
    let browser
    before(async () => {
      browser = await launch()
    })
    after(async () => {
      await browser?.close()
    })

    for (const role of ROLES) {
      test(`${role.username}: ${role.screens.join(', ')}`, async () => {
        const context = await newPhoneContext(browser)
        const page = await context.newPage()
        await login(page, role.username)
        await page.waitForSelector(SCREENS.home.ready[role.home])
        // synced: what the screens show no longer changes under the measurement
        await page.goto('/me')
        await page.waitForFunction(() => !/从未同步/.test(document.querySelector('[data-testid="me-last-synced"]')?.textContent ?? '从未同步'))
        const problems = []
        for (const name of role.screens) {
          const screen = SCREENS[name]
          await page.goto(screen.path)
          await page.waitForSelector(typeof screen.ready === 'string' ? screen.ready : screen.ready[role.home])
          const actions = Array.isArray(screen.actions) ? screen.actions : screen.actions[role.home]
          const tabs = screen.tabs === false ? [] : TABS
          for (const p of await placementProblems(page, [...actions, ...tabs])) problems.push(`${name}: ${p}`)
          for (const p of await smallTargets(page)) problems.push(`${name}: under ${MIN_TARGET_PX} px: ${p}`)
        }
        assert.equal(problems.length, 0, `${problems.length} problems:\n${problems.join('\n')}`)
        await context.close()
      })
    }
  })
}
