import { describe, expect, it, vi } from 'vitest'
import { h, nextTick, ref } from 'vue'
import { mount } from '@vue/test-utils'
import { applyUpdate, needRefresh, registerServiceWorker } from '@/composables/useSwUpdate'
import { trackDirty, useDirtyForms } from '@/composables/useDirtyForms'

describe('update prompt', () => {
  it('shows the prompt when a new worker waits, never reloads by itself, and refuses while a form is dirty', async () => {
    const update = vi.fn(async () => {})
    let hooks: { onNeedRefresh?: () => void } = {}
    await registerServiceWorker(((options: typeof hooks) => {
      hooks = options
      return update
    }) as never)
    expect(needRefresh.value).toBe(false)
    hooks.onNeedRefresh?.()
    expect(needRefresh.value).toBe(true)
    expect(update).not.toHaveBeenCalled()

    // a half-filled form: the update waits
    const dirty = ref(false)
    const Form = { setup: () => trackDirty(dirty), render: () => h('form') }
    const wrapper = mount(Form)
    dirty.value = true
    await nextTick()
    expect(useDirtyForms().dirtyForms.value).toBe(1)
    expect(await applyUpdate()).toBe(false)
    expect(update).not.toHaveBeenCalled()

    // form saved (or closed): the user's tap updates
    wrapper.unmount()
    expect(useDirtyForms().dirtyForms.value).toBe(0)
    expect(await applyUpdate()).toBe(true)
    expect(update).toHaveBeenCalledWith(true)
  })
})
