// Resolves once the first screen has been painted with content (the browser's first-contentful-paint entry, or,
// where that is not reported, a frame later), so work it does not need (map code, the first sync) starts after
// it is on screen instead of competing with it. A hidden page paints nothing: a timeout stands in for it, so
// nothing waits for the page to become visible.
const FALLBACK_MS = 300

let painted: Promise<void> | null = null

function firstContentfulPaint(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      observer?.disconnect()
      resolve()
    }
    const timer = setTimeout(done, FALLBACK_MS)
    let observer: PerformanceObserver | null = null
    const seen = () => performance.getEntriesByName?.('first-contentful-paint').length > 0
    if (typeof performance !== 'undefined' && seen()) return done()
    if (typeof PerformanceObserver !== 'undefined' && PerformanceObserver.supportedEntryTypes?.includes('paint')) {
      observer = new PerformanceObserver(() => {
        if (seen()) setTimeout(done, 0)
      })
      observer.observe({ type: 'paint', buffered: true })
    } else if (typeof requestAnimationFrame === 'function') {
      // a requestAnimationFrame callback runs just before a paint; a task queued from it runs after that paint
      requestAnimationFrame(() => setTimeout(done, 0))
    }
  })
}

export function afterPaint(): Promise<void> {
  painted ??= firstContentfulPaint()
  return painted
}
