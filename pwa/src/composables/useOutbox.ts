// The outbox as the app shows it: what waits (in words), what the server refused, what this version cannot send,
// the last drain, and the upload button. Installs the drain triggers once for whoever is logged in.
import { reactive, watch } from 'vue'
import type { StorageError } from '@/data/db'
import { discardRefused } from '@/data/outbox'
import { drainOutbox, onDrained, startOutboxSync, type DrainReport } from '@/data/outboxDrain'
import type { PendingWhat } from '@/data/outboxSenders'
import { outboxSummary, type OutboxSummary } from '@/data/outboxSummary'
import { formatDateTime, t } from '@/i18n'
import { refreshPending, session } from './useSession'

export const outboxState = reactive({
  summary: null as OutboxSummary | null,
  lastDrain: null as DrainReport | null,
  syncing: false,
  storageError: null as StorageError | null,
})

type Sink = (err: unknown) => void
let reportError: Sink = (err) => console.error(err)
export function setOutboxErrorSink(sink: Sink): void {
  reportError = sink
}

function storageFailed(error: StorageError) {
  outboxState.storageError = error
  reportError(error)
}

export async function refreshOutbox(): Promise<void> {
  const userId = session.userId
  if (userId === null) {
    outboxState.summary = null
    return
  }
  const s = await outboxSummary(userId)
  if (!s.ok) return storageFailed(s.error)
  if (session.userId === userId) outboxState.summary = s.value
}

let uninstall: (() => void) | null = null
/** Start draining for whoever is logged in (idempotent): on start, online, visible, timer, enqueue, button. */
export function installOutbox(): void {
  if (uninstall || typeof window === 'undefined') return
  const off = onDrained((report, userId) => {
    if (userId !== session.userId) return
    outboxState.lastDrain = report
    if (report.error) storageFailed(report.error)
    void refreshOutbox()
    void refreshPending()
  })
  const stop = startOutboxSync({ userId: () => session.userId })
  uninstall = () => {
    off()
    stop()
    uninstall = null
  }
}

/** Tests: forget the triggers as if the page were closed. */
export function resetOutbox(): void {
  uninstall?.()
}

// Another user: their summary, never the previous user's.
watch(
  () => session.userId,
  () => {
    outboxState.lastDrain = null
    void refreshOutbox()
  },
)

/** The button: every item of this user now, whatever its backoff. */
export async function uploadNow(): Promise<DrainReport | null> {
  const userId = session.userId
  if (userId === null) return null
  outboxState.syncing = true
  try {
    return await drainOutbox(userId, { force: true })
  } finally {
    outboxState.syncing = false
  }
}

export async function discard(seq: number): Promise<boolean> {
  const userId = session.userId
  if (userId === null) return false
  const r = await discardRefused(seq, userId)
  if (!r.ok) {
    storageFailed(r.error)
    return false
  }
  await refreshOutbox()
  await refreshPending()
  return r.value
}

/** "巡查轨迹 21 个点、结束巡查 1 次" */
export function formatLines(lines: PendingWhat[]): string {
  return lines.map((l) => t(`outbox.what.${l.what}`, { n: l.n })).join(t('outbox.join'))
}

/** "待上传：…" or "全部已上传" */
export function pendingText(lines: PendingWhat[]): string {
  return lines.length ? t('outbox.pending', { what: formatLines(lines) }) : t('outbox.allUploaded')
}

/** Why an item did not go, in the user's language: the server's message, or ours for what we detected. */
export function describeItemError(code: string | null, message: string | null): string {
  if (code === 'client_error' || code === 'patrol_not_started') return t(`outbox.errors.${code}`)
  const http = code ? /^http_(\d+)$/.exec(code) : null
  if (http) return t('outbox.errors.http', { status: http[1] })
  return message || t('errors.unknown')
}

/** What the last drain means for the user, or '' when nothing needs saying. */
export function drainProblem(report: DrainReport | null, summary: OutboxSummary | null): string {
  if (!summary?.lines.length) return ''
  if (report?.status === 'offline') return t('outbox.offlineShort')
  if (report?.status === 'auth') return t('outbox.auth')
  if (summary.retrying && summary.nextAttemptAt)
    return t('outbox.retrying', { time: formatDateTime(summary.nextAttemptAt).slice(11) })
  return ''
}
