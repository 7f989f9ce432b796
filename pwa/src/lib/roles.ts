// Which home screen a user gets: the first of their roles in priority order decides.
import type { AreaKind, Role } from '@/api/types'

export const ROLE_PRIORITY: Role[] = ['admin', 'commander', 'squad_leader', 'officer', 'supervisor', 'department']

export type HomeKind = 'overview' | 'squad' | 'officer' | 'supervisor' | 'department'

export function primaryRole(roles: readonly string[] | null | undefined): Role | null {
  return ROLE_PRIORITY.find((r) => roles?.includes(r)) ?? null
}

const HOME_BY_ROLE: Record<Role, HomeKind> = {
  admin: 'overview',
  commander: 'overview',
  squad_leader: 'squad',
  officer: 'officer',
  supervisor: 'supervisor',
  department: 'department',
}

/** Users with no known role get the department page: it shows no areas. */
export function homeFor(roles: readonly string[] | null | undefined): HomeKind {
  const role = primaryRole(roles)
  return role ? HOME_BY_ROLE[role] : 'department'
}

/** Which area kinds each home draws on its map, bottom layer first. */
export const MAP_KINDS: Record<HomeKind, AreaKind[]> = {
  overview: ['town', 'village', 'zone', 'grid'],
  squad: ['zone', 'grid'],
  officer: ['grid'],
  supervisor: ['village', 'grid'],
  department: [],
}

/** Roles in display order, for the "me" page. */
export function sortRoles(roles: readonly string[]): Role[] {
  return ROLE_PRIORITY.filter((r) => roles.includes(r))
}
