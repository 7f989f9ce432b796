// Keeps the current user's access token fresh: refresh near expiry or after a 401, one refresh at a time
// (the refresh token rotates, so two parallel refreshes would revoke each other). Offline never logs out.
import * as authApi from '@/api/auth'
import { ApiError, AuthExpiredError, OfflineError, type AuthProvider } from '@/api/http'
import type { SessionRow, StorageError } from '@/data/db'
import { loadSession, saveSession, tokensFromResponse } from '@/data/session'

/** Refresh this long before the access token expires. */
export const REFRESH_MARGIN_MS = 60_000

export interface TokenKeeperHooks {
  /** The refresh token was rejected: ask for the password; keep the user and the data. */
  onAuthExpired(userId: number): void
  onStorageError(error: StorageError): void
  /** Whether we believe the server is reachable; no refresh is tried while offline. */
  isOnline(): boolean
  now?(): number
}

export class TokenKeeper implements AuthProvider {
  private current: SessionRow | null = null
  private inflight: Promise<string> | null = null

  constructor(private readonly hooks: TokenKeeperHooks) {}

  get session(): SessionRow | null {
    return this.current
  }

  userId(): number | null {
    return this.current?.userId ?? null
  }

  setSession(row: SessionRow | null): void {
    this.current = row
    this.inflight = null
  }

  private now(): number {
    return this.hooks.now ? this.hooks.now() : Date.now()
  }

  async accessToken(): Promise<string | null> {
    const s = this.current
    if (!s) return null
    if (s.accessExpiresAt - this.now() > REFRESH_MARGIN_MS || !this.hooks.isOnline()) return s.accessToken
    try {
      return await this.refresh()
    } catch (err) {
      // Unreachable server: use the old token; the request itself will then report offline.
      if (err instanceof OfflineError) return s.accessToken
      throw err
    }
  }

  async refreshAfter401(rejectedToken: string): Promise<string> {
    const s = this.current
    if (!s) throw new AuthExpiredError()
    if (s.accessToken !== rejectedToken) return s.accessToken // another request refreshed meanwhile
    return this.refresh()
  }

  /** One refresh at a time in this tab, and across tabs when Web Locks exist. */
  refresh(): Promise<string> {
    if (!this.inflight) {
      const p = this.withLock(() => this.doRefresh()).finally(() => {
        if (this.inflight === p) this.inflight = null
      })
      this.inflight = p
    }
    return this.inflight
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = typeof navigator !== 'undefined' ? (navigator as Navigator & { locks?: LockManager }).locks : undefined
    return locks ? (locks.request('gridpatrol-token-refresh', fn) as Promise<T>) : fn()
  }

  private async doRefresh(): Promise<string> {
    const s = this.current
    if (!s) throw new AuthExpiredError()
    // Another tab may have rotated the token already: adopt what is stored instead of sending a revoked one.
    const stored = await loadSession(s.userId)
    if (stored.ok && stored.value && stored.value.refreshToken !== s.refreshToken) {
      this.current = stored.value
      if (stored.value.accessExpiresAt - this.now() > REFRESH_MARGIN_MS) return stored.value.accessToken
    }
    const base = this.current!
    let next: SessionRow
    try {
      next = tokensFromResponse(await authApi.refresh(base.refreshToken), this.now())
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
        this.hooks.onAuthExpired(base.userId)
        throw new AuthExpiredError(err.message)
      }
      throw err
    }
    if (this.current?.userId !== base.userId) throw new AuthExpiredError('user switched during refresh')
    this.current = next
    const saved = await saveSession(next)
    // The old refresh token is already revoked: keep the new one in memory and tell the user storage failed.
    if (!saved.ok) this.hooks.onStorageError(saved.error)
    return next.accessToken
  }
}
