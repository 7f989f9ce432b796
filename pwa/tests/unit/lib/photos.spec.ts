import { describe, expect, it } from 'vitest'
import { fittedSize } from '@/lib/photos'
import { searchCategories } from '@/data/categories'
import type { CaseCategory } from '@/api/cases'

describe('fittedSize', () => {
  it('brings the long edge to 1920 px and keeps the shape', () => {
    expect(fittedSize(4032, 3024)).toEqual([1920, 1440])
    expect(fittedSize(1976, 4608)).toEqual([823, 1920])
  })
  it('never enlarges a small photo', () => {
    expect(fittedSize(640, 480)).toEqual([640, 480])
  })
})

describe('searchCategories', () => {
  const all = [
    { code: 'SRHJ-01', name: '垃圾乱堆乱放', field: '市容环境' },
    { code: 'SZSS-01', name: '井盖缺失', field: '市政设施' },
    { code: 'JMZX-01', name: '占道经营', field: '街面秩序' },
  ] as CaseCategory[]
  it('finds by any part of the name, the field or the code, every word counting', () => {
    expect(searchCategories(all, '垃圾').map((c) => c.code)).toEqual(['SRHJ-01'])
    expect(searchCategories(all, '市政').map((c) => c.code)).toEqual(['SZSS-01'])
    expect(searchCategories(all, 'jmzx').map((c) => c.code)).toEqual(['JMZX-01'])
    expect(searchCategories(all, '占道 市容')).toEqual([])
  })
  it('lists everything when nothing is typed', () => {
    expect(searchCategories(all, '  ')).toHaveLength(3)
  })
})
