// /api/v1/users and /api/v1/squads: the people a leader plans for (reads only; admins manage users elsewhere).
import { requestRaw } from './http'
import type { Role, User } from './types'

export interface UserQuery {
  squad?: number
  role?: Role
  active?: boolean
}

/** One page of up to 500: a squad has a handful of officers, a town a few hundred. */
export async function listUsers(query: UserQuery): Promise<User[]> {
  const { data } = await requestRaw<User[]>('GET', '/api/v1/users', {
    query: { squad: query.squad, role: query.role, active: query.active === undefined ? undefined : String(query.active), page: 1, page_size: 500 },
  })
  return data ?? []
}

export interface Squad {
  id: number
  name: string
  active: boolean
  area_ids: number[]
}

export async function listSquads(): Promise<Squad[]> {
  const { data } = await requestRaw<Squad[]>('GET', '/api/v1/squads', { query: { page: 1, page_size: 100 } })
  return data ?? []
}
