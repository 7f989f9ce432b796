// Shows errors to the user in their language with what to do next; the raw text (often English, from the
// browser) goes to the console only. Storage errors get their own wording (quota full, storage missing).
import { showNotify } from 'vant'
import { ApiError, AuthExpiredError, OfflineError } from '@/api/http'
import { StorageError } from '@/data/db'
import { t } from '@/i18n'

export function describeError(err: unknown): string {
  if (err instanceof StorageError) {
    if (err.kind === 'quota') return t('errors.quota')
    if (err.kind === 'unavailable') return t('errors.storageUnavailable')
    console.warn('storage error', err.message, err.cause)
    return t('errors.storage')
  }
  if (err instanceof ApiError) {
    // The server's own error shape carries a message in the user's language; anything else (a proxy's page) not.
    if (err.code.startsWith('http_')) return t('errors.server', { status: err.status })
    return err.message
  }
  if (err instanceof OfflineError) return t('errors.network')
  if (err instanceof AuthExpiredError) return t('outbox.auth')
  console.error(err)
  return t('errors.unknown')
}

export function notifyError(err: unknown): void {
  showNotify({ type: 'danger', message: describeError(err), duration: 5000 })
}
