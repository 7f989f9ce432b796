// Sends the outbox: one drain at a time (the 'outbox' Web Lock across tabs), each group strictly in order, each
// item by the sender registered for its kind, with backoff per item, and only with its owner's tokens. Drained on
// start, on `online`, when the page becomes visible, on a timer, after each enqueue and by a button.
import Dexie from 'dexie'
import { ApiError, AuthExpiredError, OfflineError, authUserId, onConnectivity } from '@/api/http'
import { db, StorageError, toStorageError, type OutboxRow } from './db'
import { blobOf } from './blobs'
import { listPending, onEnqueued, outboxTables, releaseBlobsInTransaction } from './outbox'
import { senderFor, type SendContext, type SendOutcome } from './outboxSenders'
import './senders'

export type DrainStatus = 'done' | 'busy' | 'offline' | 'auth' | 'server' | 'storage'

export interface DrainReport {
  /** done: everything that could go went; server: some items wait for a retry; the rest stopped the drain */
  status: DrainStatus
  /** items the server confirmed in this run, and of which kinds */
  sent: number
  sentKinds: Record<string, number>
  /** items the server refused (4xx): kept with their message, later items of the same group wait */
  refused: number
  /** items that failed for now (5xx, a sender's "not yet"): tried again after their backoff */
  retried: number
  /** items not tried because their backoff has not run out yet */
  waiting: number
  /** kinds this app has no sender for: kept, and shown */
  unknownKinds: string[]
  error?: StorageError
}

export interface DrainOptions {
  /** the button: try every item now, whatever its backoff */
  force?: boolean
  now?: () => number
  random?: () => number
}

export const BACKOFF_BASE_MS = 5_000
export const BACKOFF_MAX_MS = 10 * 60_000
/** A refused item is tried again now and then (the server's state may change), never in a tight loop. */
export const REFUSED_RETRY_MIN_MS = 5 * 60_000

/** Exponential backoff with jitter: 5 s, 10 s, 20 s … up to 10 min, each between half and all of that. */
export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const full = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1))
  return Math.round(full / 2 + (random() * full) / 2)
}

let running = false
let again = false

/** Run `fn` only if nobody (this tab or another) is draining; null when busy. */
async function withOutboxLock<T>(fn: () => Promise<T>): Promise<T | null> {
  if (running) return null
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  const guarded = async () => {
    running = true
    try {
      return await fn()
    } finally {
      running = false
    }
  }
  if (locks?.request) return locks.request('outbox', { ifAvailable: true }, (lock) => (lock ? guarded() : null))
  return guarded() // no Web Locks (old webviews): one drain per tab, and the servers' ids keep it exactly-once
}

function emptyReport(status: DrainStatus): DrainReport {
  return { status, sent: 0, sentKinds: {}, refused: 0, retried: 0, waiting: 0, unknownKinds: [] }
}

/** Two rounds of one drain as one report: everything sent in either counts, the last round says how it ended. */
function merged(a: DrainReport, b: DrainReport): DrainReport {
  const sentKinds = { ...a.sentKinds }
  for (const [k, n] of Object.entries(b.sentKinds)) sentKinds[k] = (sentKinds[k] ?? 0) + n
  return {
    ...b,
    sent: a.sent + b.sent,
    sentKinds,
    refused: a.refused + b.refused,
    retried: a.retried + b.retried,
    unknownKinds: [...new Set([...a.unknownKinds, ...b.unknownKinds])],
  }
}

const drainedListeners = new Set<(report: DrainReport, userId: number) => void>()
/** Told after every drain that ran (not the busy ones). */
export function onDrained(listener: (report: DrainReport, userId: number) => void): () => void {
  drainedListeners.add(listener)
  return () => drainedListeners.delete(listener)
}

/** Upload what can be uploaded now for this user. A drain asked for while one runs makes that one go round again. */
export async function drainOutbox(userId: number, opts: DrainOptions = {}): Promise<DrainReport> {
  const report = await withOutboxLock(async () => {
    let r: DrainReport | null = null
    let force = opts.force ?? false
    do {
      again = false
      const round = await drainOnce(userId, { ...opts, force })
      r = r ? merged(r, round) : round
      force = false // a second round is for what was added meanwhile; backed-off items keep waiting
    } while (again && r.status === 'done')
    return r
  })
  if (report === null) {
    again = true
    return emptyReport('busy')
  }
  for (const l of drainedListeners) l(report, userId)
  schedule(userId)
  return report
}

type Classified =
  | SendOutcome
  | { status: 'stop'; drain: DrainStatus; error?: StorageError }

function classify(err: unknown): Classified {
  if (err instanceof OfflineError) return { status: 'stop', drain: 'offline' }
  if (err instanceof AuthExpiredError || (err instanceof ApiError && err.status === 401)) return { status: 'stop', drain: 'auth' }
  if (err instanceof StorageError) return { status: 'stop', drain: 'storage', error: err }
  if (err instanceof ApiError) {
    if (err.status >= 500 || err.status === 408 || err.status === 429) return { status: 'retry', message: err.message, code: err.code }
    return { status: 'refused', message: err.message, code: err.code }
  }
  if (err instanceof Dexie.DexieError || (typeof DOMException !== 'undefined' && err instanceof DOMException))
    return { status: 'stop', drain: 'storage', error: toStorageError(err) }
  // A bug in a sender: keep the item and try it again later; the details go to the console, not the screen.
  console.error('outbox sender failed', err)
  return { status: 'retry', message: String((err as Error)?.message ?? err), code: 'client_error' }
}

async function drainOnce(userId: number, opts: DrainOptions): Promise<DrainReport> {
  const now = opts.now ?? Date.now
  const random = opts.random ?? Math.random
  const r = emptyReport('done')
  const stop = (status: DrainStatus, error?: StorageError): DrainReport => ({ ...r, status, error })
  const items = await listPending(userId)
  if (!items.ok) return stop('storage', items.error)
  const held = new Set<string>() // groups whose earlier item did not go: their later items wait

  for (const item of items.value) {
    if (held.has(item.group)) continue
    const send = senderFor(item.kind)
    if (!send) {
      if (!r.unknownKinds.includes(item.kind)) r.unknownKinds.push(item.kind)
      held.add(item.group)
      continue
    }
    if (!opts.force && item.nextAttemptAt > now()) {
      r.waiting++
      held.add(item.group)
      continue
    }
    // Only with its owner's tokens: the user may have logged out or switched while this drain ran.
    if (authUserId() !== userId) return stop('auth')
    let outcome: Classified
    try {
      outcome = await send(item, contextFor(item))
    } catch (err) {
      outcome = classify(err)
    }
    try {
      if (outcome.status === 'stop') return stop(outcome.drain, outcome.error)
      if (outcome.status === 'done') {
        await complete(item, outcome)
        r.sent++
        r.sentKinds[item.kind] = (r.sentKinds[item.kind] ?? 0) + 1
        continue
      }
      held.add(item.group)
      const attempts = item.attempts + 1
      if (outcome.status === 'retry') {
        r.retried++
        await note(item, { attempts, state: 'retry', nextAttemptAt: now() + backoffMs(attempts, random),
          lastError: outcome.message ?? null, lastErrorCode: outcome.code ?? null })
      } else {
        r.refused++
        const wait = Math.max(REFUSED_RETRY_MIN_MS, backoffMs(attempts, random))
        await note(item, { attempts, state: 'refused', nextAttemptAt: now() + wait, lastError: outcome.message,
          lastErrorCode: outcome.code ?? null })
      }
    } catch (err) {
      return stop('storage', toStorageError(err))
    }
  }
  return r.retried > 0 ? stop('server') : r
}

function contextFor(item: OutboxRow): SendContext {
  return {
    userId: item.userId,
    async updatePayload(payload) {
      await db.outbox.update(item.seq!, { payload })
      item.payload = payload
    },
    async getBlob(id) {
      return blobOf(await db.blobs.get(id))
    },
  }
}

/** The item leaves the outbox together with what its sender records about the answer, and its unused blobs. */
async function complete(item: OutboxRow, outcome: Extract<SendOutcome, { status: 'done' }>) {
  await db.transaction('rw', [...outboxTables(), ...(outcome.tables ?? [])], async () => {
    await outcome.commit?.()
    await db.outbox.delete(item.seq!)
    await releaseBlobsInTransaction(item.blobIds ?? [])
  })
}

async function note(item: OutboxRow, changes: Partial<OutboxRow>) {
  await db.outbox.update(item.seq!, changes)
}

/** The button "retry now" of one refused item: due at once again. */
export async function retryNow(seq: number): Promise<void> {
  await db.outbox.update(seq, { nextAttemptAt: 0 })
}

// ---- triggers ----

export const DRAIN_INTERVAL_MS = 15_000

export interface SyncTriggers {
  /** who is logged in now (null: nothing to drain) */
  userId(): number | null
}

let installed: (() => void) | null = null
let triggers: SyncTriggers | null = null
let soon: ReturnType<typeof setTimeout> | null = null

/** Drain now for the current user. `force`: the button (every item now, whatever its backoff). */
export async function requestDrain(opts: { force?: boolean } = {}): Promise<DrainReport | null> {
  const userId = triggers?.userId() ?? null
  if (userId === null) return null
  return drainOutbox(userId, opts)
}

/** After a drain: wake up when the first backed-off item is due, if that is before the next timer tick. */
function schedule(userId: number) {
  if (!installed || typeof window === 'undefined') return
  void listPending(userId).then((items) => {
    if (!items.ok || !installed) return
    const due = items.value.map((i) => i.nextAttemptAt).filter((t) => t > Date.now())
    if (!due.length) return
    const wait = Math.min(...due) - Date.now() + 50
    if (wait >= DRAIN_INTERVAL_MS) return
    if (soon) clearTimeout(soon)
    soon = setTimeout(() => {
      soon = null
      void requestDrain()
    }, wait)
  })
}

/** Install the drain triggers once (start, online, visible, server reachable again, enqueue, timer). */
export function startOutboxSync(t: SyncTriggers): () => void {
  triggers = t
  if (installed) return installed
  const kick = () => void requestDrain()
  const onVisible = () => {
    if (document.visibilityState === 'visible') kick()
  }
  window.addEventListener('online', kick)
  document.addEventListener('visibilitychange', onVisible)
  let wasReachable = true
  const offReach = onConnectivity((reachable) => {
    if (reachable && !wasReachable) kick()
    wasReachable = reachable
  })
  const offEnqueue = onEnqueued(kick)
  const timer = setInterval(kick, DRAIN_INTERVAL_MS)
  installed = () => {
    window.removeEventListener('online', kick)
    document.removeEventListener('visibilitychange', onVisible)
    offReach()
    offEnqueue()
    clearInterval(timer)
    if (soon) clearTimeout(soon)
    soon = null
    installed = null
    triggers = null
  }
  queueMicrotask(kick)
  return installed
}
