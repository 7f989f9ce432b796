// The title bar drawn without van-nav-bar: the back arrow answers a tap and the Enter key and is named for screen
// readers; the right slot answers a tap; a bar without the arrow has no back button at all.
import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import AppNavBar from '@/components/layout/AppNavBar.vue'

describe('AppNavBar', () => {
  it('goes back on a tap and on Enter, and names the arrow', async () => {
    const bar = mount(AppNavBar, { props: { title: '排班', leftArrow: true } })
    const back = bar.get('.van-nav-bar__left')
    expect(back.attributes('role')).toBe('button')
    expect(back.attributes('aria-label')).toBe('返回')
    await back.trigger('click')
    await back.trigger('keydown', { key: 'Enter' })
    expect(bar.emitted('click-left')).toHaveLength(2)
    expect(bar.get('.van-nav-bar__title').text()).toBe('排班')
    expect(bar.find('.van-nav-bar__right').exists()).toBe(false)
  })

  it('has no back button without the arrow, and a right part only with its slot', async () => {
    const bar = mount(AppNavBar, { props: { title: '巡查覆盖' }, slots: { right: '<i class="refresh" />' } })
    expect(bar.find('.van-nav-bar__left').exists()).toBe(false)
    await bar.get('.van-nav-bar__right').trigger('click')
    expect(bar.emitted('click-right')).toHaveLength(1)
    expect(bar.find('.van-nav-bar__right .refresh').exists()).toBe(true)
  })
})
