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
})
