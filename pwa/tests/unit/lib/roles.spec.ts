import { describe, expect, it } from 'vitest'
import { homeFor, primaryRole } from '@/lib/roles'

describe('role -> home', () => {
  it.each([
    [['officer'], 'officer'],
    [['squad_leader'], 'squad'],
    [['supervisor'], 'supervisor'],
    [['commander'], 'overview'],
    [['admin'], 'overview'],
    [['department'], 'department'],
    [['officer', 'squad_leader'], 'squad'],
    [['supervisor', 'officer'], 'officer'],
    [['department', 'supervisor'], 'supervisor'],
    [['officer', 'admin'], 'overview'],
    [['squad_leader', 'commander'], 'overview'],
    [[], 'department'],
    [['unknown'], 'department'],
  ])('%j -> %s', (roles, home) => {
    expect(homeFor(roles)).toBe(home)
  })

  it('picks the first role by priority admin, commander, squad_leader, officer, supervisor, department', () => {
    expect(primaryRole(['department', 'officer', 'commander'])).toBe('commander')
    expect(primaryRole(null)).toBeNull()
  })
})
