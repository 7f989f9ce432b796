// The one HTTP client: same origin, Accept-Language from the UI, bearer token with refresh, one error shape.
import { acceptLanguage } from '@/i18n'

/** The server answered with its error shape {code, message, details}; message is already in the user's language. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

/** The request never reached the server (no network, DNS, aborted): we are offline, not logged out. */
export class OfflineError extends Error {
  constructor(message = 'offline') {
    super(message)
    this.name = 'OfflineError'
  }
}

/** The refresh token was rejected: the user must type the password again; local data stays. */
export class AuthExpiredError extends Error {
  constructor(message = 'auth expired') {
    super(message)
    this.name = 'AuthExpiredError'
  }
}

/** What http.ts needs from the session: a usable access token and a way to get a new one. */
export interface AuthProvider {
  accessToken(): Promise<string | null>
  /** Get a new access token after a 401; throws AuthExpiredError or OfflineError. */
  refreshAfter401(rejectedToken: string): Promise<string>
  /** whose tokens these are (null: nobody is logged in) */
  userId(): number | null
}

let authProvider: AuthProvider | null = null
export function setAuthProvider(provider: AuthProvider | null): void {
  authProvider = provider
}

/** The bearer token for a request made outside this module (tus uploads), refreshed first when `rejected` (the
 *  token a 401 answered) is given. null when nobody is logged in. */
export async function bearerToken(rejected?: string): Promise<string | null> {
  if (!authProvider) return null
  return rejected ? authProvider.refreshAfter401(rejected) : authProvider.accessToken()
}

/** The user whose token the next request carries: the outbox sends a user's items only with that user's token. */
export function authUserId(): number | null {
  return authProvider?.userId() ?? null
}

type ConnectivityListener = (online: boolean) => void
const connectivityListeners = new Set<ConnectivityListener>()
/** Every request tells listeners whether the server was reachable; navigator.onLine alone is not trusted. */
export function onConnectivity(listener: ConnectivityListener): () => void {
  connectivityListeners.add(listener)
  return () => connectivityListeners.delete(listener)
}
function reportConnectivity(online: boolean) {
  for (const l of connectivityListeners) l(online)
}

export interface RequestOptions {
  body?: unknown
  /** A multipart body (photos): sent as is, the browser sets its Content-Type with the boundary. */
  form?: FormData
  query?: Record<string, string | number | undefined>
  /** Send the bearer token (default true). */
  auth?: boolean
  signal?: AbortSignal
}

export interface RawResponse<T> {
  data: T
  headers: Headers
  status: number
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v))
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

async function send(
  method: string,
  url: string,
  opts: RequestOptions,
  token: string | null,
  accept = 'application/json',
): Promise<Response> {
  const headers: Record<string, string> = { Accept: accept, 'Accept-Language': acceptLanguage() }
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json'
  if (token) headers.Authorization = `Bearer ${token}`
  try {
    const response = await fetch(url, {
      method,
      headers,
      body: opts.form ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
      signal: opts.signal,
      credentials: 'same-origin',
      cache: 'no-store',
    })
    reportConnectivity(true)
    return response
  } catch (err) {
    if ((err as Error)?.name === 'AbortError' && opts.signal?.aborted) throw err
    reportConnectivity(false)
    throw new OfflineError((err as Error)?.message)
  }
}

async function parseError(response: Response): Promise<ApiError> {
  let body: unknown = null
  try {
    body = await response.json()
  } catch {
    /* not JSON (proxy page, empty body): fall through to a generic error */
  }
  if (body && typeof body === 'object' && 'code' in body) {
    const b = body as { code: string; message?: string; details?: Record<string, unknown> }
    return new ApiError(response.status, b.code, b.message ?? b.code, b.details ?? {})
  }
  return new ApiError(response.status, `http_${response.status}`, `HTTP ${response.status} ${response.statusText}`.trim())
}

/** Send a request and return body + headers; retries once with a refreshed token on 401. */
export async function requestRaw<T>(method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse<T>> {
  const url = buildUrl(path, opts.query)
  const useAuth = opts.auth !== false && authProvider !== null
  let token = useAuth ? await authProvider!.accessToken() : null
  let response = await send(method, url, opts, token)
  if (response.status === 401 && useAuth && token) {
    token = await authProvider!.refreshAfter401(token)
    response = await send(method, url, opts, token)
  }
  if (!response.ok) throw await parseError(response)
  const data = (response.status === 204 ? null : await response.json().catch(() => null)) as T
  return { data, headers: response.headers, status: response.status }
}

/** A binary answer (PNG map tiles) with the same bearer token, refresh on 401, errors and connectivity reports. */
export async function requestBlob(path: string, opts: RequestOptions = {}, accept = 'image/png'): Promise<Blob> {
  const url = buildUrl(path, opts.query)
  const useAuth = opts.auth !== false && authProvider !== null
  let token = useAuth ? await authProvider!.accessToken() : null
  let response = await send('GET', url, opts, token, accept)
  if (response.status === 401 && useAuth && token) {
    token = await authProvider!.refreshAfter401(token)
    response = await send('GET', url, opts, token, accept)
  }
  if (!response.ok) throw await parseError(response)
  return response.blob()
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  return (await requestRaw<T>(method, path, opts)).data
}
