// Resolves once the app's first screen has been painted: a frame after the caller (a mounted screen) rendered, so
// work that screen does not need (map code, the first sync) starts after it is on screen instead of competing with
// it. Not the browser's first-contentful-paint entry: index.html's launch screen sets that before the app exists.
// A hidden page paints no frames: a timeout stands in for it, so nothing waits for the page to become visible.
const FALLBACK_MS = 300

let painted: Promise<void> | null = null

function nextPaint(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    const timer = setTimeout(done, FALLBACK_MS)
    // a requestAnimationFrame callback runs just before a paint; a task queued from it runs after that paint
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(done, 0))
  })
}

/** A task of its own: what runs after it is not added to the task that is running now. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

/** Resolves after the first paint, each caller in a task of its own: the deferred jobs (the lists, the map, the
 * first sync) then run one after another with frames between, not all in one long task. */
export function afterPaint(): Promise<void> {
  painted ??= nextPaint()
  return painted.then(nextTask)
}
