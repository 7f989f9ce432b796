// /api/v1/me: who I am and which areas I may see.
import { request } from './http'
import type { MeResponse } from './types'

export function getMe(): Promise<MeResponse> {
  return request<MeResponse>('GET', '/api/v1/me')
}
