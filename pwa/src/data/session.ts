// Tokens per user id, and which user is logged in on this device now.
import type { TokenResponse } from '@/api/types'
import { attempt, db, type Result, type SessionRow } from './db'
import { deleteKv, getKv, setKv } from './kv'

export function tokensFromResponse(res: TokenResponse, now = Date.now()): SessionRow {
  return {
    userId: res.user.id,
    accessToken: res.access_token,
    accessExpiresAt: now + res.expires_in * 1000,
    refreshToken: res.refresh_token,
    refreshExpiresAt: now + res.refresh_expires_in * 1000,
  }
}

export function saveSession(row: SessionRow): Promise<Result<void>> {
  return attempt(async () => {
    await db.sessions.put(row)
  })
}

export function loadSession(userId: number): Promise<Result<SessionRow | undefined>> {
  return attempt(() => db.sessions.get(userId))
}

/** Forget one user's tokens (logout). Their profile, areas and outbox stay. */
export function deleteSession(userId: number): Promise<Result<void>> {
  return attempt(() => db.sessions.delete(userId))
}

export async function getCurrentUserId(): Promise<Result<number | undefined>> {
  return getKv<number>('currentUserId')
}

export function setCurrentUserId(userId: number | null): Promise<Result<void>> {
  return userId === null ? deleteKv('currentUserId') : setKv('currentUserId', userId)
}
