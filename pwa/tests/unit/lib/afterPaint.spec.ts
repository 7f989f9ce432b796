import { afterEach, describe, expect, it, vi } from 'vitest'

describe('afterPaint', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    vi.resetModules()
  })

  it('waits for the next frame even when the launch screen already set first-contentful-paint', async () => {
    let frame: FrameRequestCallback | null = null
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => ((frame = cb), 1))
    vi.spyOn(performance, 'getEntriesByName').mockReturnValue([{ name: 'first-contentful-paint' } as PerformanceEntry])
    const { afterPaint } = await import('@/lib/afterPaint')
    let resolved = false
    void afterPaint().then(() => (resolved = true))
    await new Promise((r) => setTimeout(r, 20))
    expect(resolved).toBe(false) // the app's screen has not been painted yet
    expect(frame).not.toBeNull()
    frame!(0)
    await vi.waitFor(() => expect(resolved).toBe(true))
  })

  it('does not wait for a hidden page, which paints no frames', async () => {
    vi.stubGlobal('requestAnimationFrame', () => 1) // never calls back
    const { afterPaint } = await import('@/lib/afterPaint')
    await expect(afterPaint()).resolves.toBeUndefined() // by its fallback timeout
  })

  it('gives each caller a task of its own once the frame is painted, so deferred jobs do not add up to one long task', async () => {
    let frame: FrameRequestCallback | null = null
    vi.stubGlobal('requestAnimationFrame', (cb: FrameRequestCallback) => ((frame = cb), 1))
    const { afterPaint } = await import('@/lib/afterPaint')
    const order: string[] = []
    void afterPaint().then(() => {
      order.push('first')
      // a microtask queued by the first job runs before the second job: they are in different tasks
      queueMicrotask(() => order.push('first job, microtask'))
    })
    void afterPaint().then(() => order.push('second'))
    frame!(0)
    await vi.waitFor(() => expect(order).toHaveLength(3))
    expect(order).toEqual(['first', 'first job, microtask', 'second'])
  })
})
