// Shows errors to the user; storage errors get their own wording (quota full, storage missing).
import { showNotify } from 'vant'
import { ApiError, OfflineError } from '@/api/http'
import { StorageError } from '@/data/db'
import { t } from '@/i18n'

export function describeError(err: unknown): string {
  if (err instanceof StorageError) {
    if (err.kind === 'quota') return t('errors.quota')
    if (err.kind === 'unavailable') return t('errors.storageUnavailable')
    return t('errors.storage', { message: err.message })
  }
  if (err instanceof ApiError) return err.message // already in the user's language
  if (err instanceof OfflineError) return t('errors.network')
  return t('errors.unknown', { message: (err as Error)?.message ?? String(err) })
}

export function notifyError(err: unknown): void {
  showNotify({ type: 'danger', message: describeError(err), duration: 5000 })
}
