// /api/v1/auth: log in, rotate the refresh token, log out. None of these send the access token.
import { request } from './http'
import type { TokenResponse } from './types'

export function login(username: string, password: string): Promise<TokenResponse> {
  return request<TokenResponse>('POST', '/api/v1/auth/login', { body: { username, password }, auth: false })
}

/** The refresh token rotates: the answer carries a new one and the old one is revoked. */
export function refresh(refreshToken: string): Promise<TokenResponse> {
  return request<TokenResponse>('POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshToken }, auth: false })
}

export async function logout(refreshToken: string): Promise<void> {
  await request<null>('POST', '/api/v1/auth/logout', { body: { refresh_token: refreshToken }, auth: false })
}
