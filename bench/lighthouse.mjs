// Lighthouse (mobile preset) on the login page and signed-in home pages of the built PWA, served by gunicorn as in
// production, against a baseline measured in the same run: the same build with its precompressed files removed.
//
//   node bench/lighthouse.mjs            (from the repository root; needs `make deps pwa`; RUNS=3 by default)
//
// Lighthouse is not a dependency of the app: it is installed once into bench/.cache/lighthouse (LIGHTHOUSE_DIR)
// from the npm registry. Chromium is CHROME_PATH (default /usr/bin/chromium). Figures are the median of RUNS.
// REPORT_DIR=dir keeps each page's last Lighthouse report (JSON) there, to see what it found; PAGES=login,officer1
// measures only those; BASELINE=0 skips the baseline (while working on the figures, not for the README).
import { spawn, spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const DIST = join(REPO, 'pwa', 'dist')
const VENV_BIN = join(REPO, '.venv', 'bin')
const LIGHTHOUSE_DIR = process.env.LIGHTHOUSE_DIR ?? join(REPO, 'bench', '.cache', 'lighthouse')
const LIGHTHOUSE_VERSION = '12.8.2'
const CHROME_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium'
const RUNS = Number(process.env.RUNS ?? 3)
const REPORT_DIR = process.env.REPORT_DIR
const PASSWORD = 'gridpatrol-demo'
// the pages: who is signed in (none: the login page) and which home that gives
const PAGES = [
  { name: 'login', user: null },
  { name: 'home (officer1)', user: 'officer1' },
  { name: 'home (leader1)', user: 'leader1' },
].filter((p) => !process.env.PAGES || process.env.PAGES.split(',').includes(p.user ?? 'login'))
const TARGET = { score: 0.95, lcpMs: 2000 }

function requireLighthouse() {
  const pkg = join(LIGHTHOUSE_DIR, 'package.json')
  if (!existsSync(join(LIGHTHOUSE_DIR, 'node_modules', 'lighthouse'))) {
    mkdirSync(LIGHTHOUSE_DIR, { recursive: true })
    console.log(`installing lighthouse@${LIGHTHOUSE_VERSION} into ${LIGHTHOUSE_DIR} (once)`)
    const r = spawnSync('npm', ['install', '--prefix', LIGHTHOUSE_DIR, '--no-audit', '--no-fund', '--no-save',
      `lighthouse@${LIGHTHOUSE_VERSION}`], { stdio: 'inherit' })
    if (r.status !== 0) throw new Error('npm could not install lighthouse')
  }
  const require = createRequire(existsSync(pkg) ? pkg : join(LIGHTHOUSE_DIR, 'x.js'))
  const load = (name) => import(pathToFileURL(require.resolve(name)).href)
  return Promise.all([load('lighthouse'), load('chrome-launcher'), load('puppeteer-core')])
}

function freePort() {
  return new Promise((done, fail) => {
    const srv = createServer()
    srv.on('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => done(port))
    })
  })
}

async function waitHealthy(url, server, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the server exited with ${server.exitCode}`)
    try {
      if ((await fetch(`${url}/api/health`)).ok) return
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`${url} did not become healthy`)
}

/** gunicorn as `make run` starts it, on a fresh demo database, serving `dist`. */
async function startServer(dist, varDir) {
  const env = { ...process.env, GRIDPATROL_VAR_DIR: varDir, DATABASE_URL: `sqlite:///${varDir}/bench.db`, PWA_DIST: dist,
    LOG_LEVEL: 'WARNING' }
  delete env.GRIDPATROL_ENV
  if (!existsSync(join(varDir, 'bench.db'))) {
    const r = spawnSync(join(VENV_BIN, 'gridpatrol'), ['bootstrap'], { env, cwd: REPO, stdio: 'ignore' })
    if (r.status !== 0) throw new Error('gridpatrol bootstrap failed')
  }
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const server = spawn(join(VENV_BIN, 'gunicorn'), ['-c', 'gunicorn.conf.py', '--bind', `127.0.0.1:${port}`,
    '--access-logfile', '/dev/null', 'backend.wsgi:app'], { env, cwd: REPO, stdio: 'ignore' })
  await waitHealthy(url, server)
  return { url, stop: () => new Promise((r) => { server.once('exit', r); server.kill('SIGTERM') }) }
}

/** A copy of the build without its .gz/.br files: what the server sent before precompression. */
function plainCopy(target) {
  cpSync(DIST, target, { recursive: true })
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (/\.(gz|br)$/.test(name)) rmSync(path)
    }
  }
  walk(target)
  return target
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/**
 * One page, RUNS times, each as a first visit of a signed-in user: tokens and areas stay in IndexedDB, while the
 * HTTP cache, Cache Storage and the service worker are cleared before every run.
 */
async function measure({ lighthouse, chromeLauncher, puppeteer }, url, user, reportName) {
  const chrome = await chromeLauncher.launch({
    chromePath: CHROME_PATH,
    chromeFlags: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
  try {
    const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` })
    const page = await browser.newPage()
    if (user) {
      await page.goto(`${url}/login`)
      await page.waitForSelector('input[name="username"]')
      await page.type('input[name="username"]', user)
      await page.type('input[name="password"]', PASSWORD)
      await page.click('[data-testid="login-submit"]')
      await page.waitForSelector('[data-testid^="home-"]')
      // the first sync has stored the user's areas (what a returning user opens the app with)
      await page.waitForFunction(() => document.querySelectorAll('path.leaflet-interactive').length > 0, { timeout: 60_000 })
    }
    const runs = []
    for (let i = 0; i < RUNS; i++) {
      const cdp = await page.createCDPSession()
      await cdp.send('Network.clearBrowserCache')
      await cdp.send('Storage.clearDataForOrigin', { origin: url, storageTypes: 'cache_storage,service_workers' })
      await cdp.detach()
      const result = await lighthouse(`${url}${user ? '/' : '/login'}`, {
        port: chrome.port,
        output: 'json',
        logLevel: 'error',
        onlyCategories: ['performance'],
        disableStorageReset: !!user, // keeps the signed-in user; caches were cleared above
      })
      if (REPORT_DIR) {
        mkdirSync(REPORT_DIR, { recursive: true })
        writeFileSync(join(REPORT_DIR, `${reportName}.json`), JSON.stringify(result.lhr, null, 1))
      }
      const a = result.lhr.audits
      runs.push({
        score: result.lhr.categories.performance.score,
        lcpMs: a['largest-contentful-paint'].numericValue,
        fcpMs: a['first-contentful-paint'].numericValue,
        tbtMs: a['total-blocking-time'].numericValue,
        bytes: a['total-byte-weight'].numericValue,
        finalUrl: result.lhr.finalDisplayedUrl,
        opportunities: Object.values(a)
          .filter((x) => x.details?.type === 'opportunity' && (x.numericValue ?? 0) > 100)
          .map((x) => `${x.id} ${Math.round(x.numericValue)} ms`),
      })
    }
    await browser.disconnect()
    return {
      score: median(runs.map((r) => r.score)),
      lcpMs: median(runs.map((r) => r.lcpMs)),
      fcpMs: median(runs.map((r) => r.fcpMs)),
      tbtMs: median(runs.map((r) => r.tbtMs)),
      bytes: median(runs.map((r) => r.bytes)),
      finalUrl: runs[0].finalUrl,
      spread: runs.map((r) => r.score.toFixed(2)).join(' '),
      opportunities: runs[runs.length - 1].opportunities,
    }
  } finally {
    await chrome.kill()
  }
}

async function main() {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('pwa/dist is not built: run `make pwa` first')
  const [lh, launcher, pptr] = await requireLighthouse()
  const tools = { lighthouse: lh.default, chromeLauncher: launcher, puppeteer: pptr.default ?? pptr }
  const work = mkdtempSync(join(tmpdir(), 'gridpatrol-lighthouse-'))
  const variants = [
    { name: 'baseline: plain files', short: 'plain', dist: plainCopy(join(work, 'plain-dist')) },
    { name: 'precompressed (br/gzip)', short: 'compressed', dist: DIST },
  ].filter((v) => process.env.BASELINE !== '0' || v.short !== 'plain')
  const results = []
  try {
    for (const variant of variants) {
      const server = await startServer(variant.dist, work)
      try {
        for (const p of PAGES) {
          const r = await measure(tools, server.url, p.user, `${variant.short}-${p.user ?? 'login'}`)
          results.push({ variant: variant.name, page: p.name, ...r })
          console.log(`${variant.name.padEnd(26)} ${p.name.padEnd(16)} score ${r.score.toFixed(2)}  LCP ${(r.lcpMs / 1000).toFixed(2)} s` +
            `  FCP ${(r.fcpMs / 1000).toFixed(2)} s  TBT ${Math.round(r.tbtMs)} ms  ${Math.round(r.bytes / 1024)} KiB  (${r.finalUrl})`)
          console.log(`${''.padEnd(44)}each run's score: ${r.spread}`)
          if (r.opportunities.length) console.log(`${''.padEnd(44)}opportunities: ${r.opportunities.join(', ')}`)
        }
      } finally {
        await server.stop()
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
  console.log(`\nLighthouse ${LIGHTHOUSE_VERSION}, mobile preset (simulated slow 4G, 4× CPU), median of ${RUNS} runs`)
  let met = true
  for (const p of PAGES) {
    const found = variants.map((v) => results.find((r) => r.variant === v.name && r.page === p.name))
    const [base, now] = found.length === 2 ? found : [found[0], found[0]]
    const ok = now.score >= TARGET.score && now.lcpMs <= TARGET.lcpMs
    met &&= ok
    console.log(`${p.name.padEnd(16)} score ${base.score.toFixed(2)} -> ${now.score.toFixed(2)}, LCP ${(base.lcpMs / 1000).toFixed(2)} -> ` +
      `${(now.lcpMs / 1000).toFixed(2)} s (${(base.lcpMs / now.lcpMs).toFixed(2)}x), bytes ${Math.round(base.bytes / 1024)} -> ` +
      `${Math.round(now.bytes / 1024)} KiB (${(base.bytes / now.bytes).toFixed(2)}x)  target score >= ${TARGET.score}, LCP <= ` +
      `${TARGET.lcpMs / 1000} s: ${ok ? 'met' : 'NOT met'}`)
  }
  process.exitCode = met ? 0 : 1
}

await main()
