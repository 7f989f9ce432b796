// Wait until a check passes, polling on real time without moving a faked clock (vi.waitFor advances fake timers
// by its interval on every try, so a slow machine would change what a test with a faked clock measures), and
// long enough for a busy machine: IndexedDB work of a whole store can take seconds there.
const realSetTimeout = globalThis.setTimeout

export async function eventually<T>(check: () => T, timeoutMs = 5_000): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    try {
      return check()
    } catch (err) {
      if (performance.now() > deadline) throw err
      await new Promise((resolve) => realSetTimeout(resolve, 20))
    }
  }
}
