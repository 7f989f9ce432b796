// Originals over tus 1.0 (/api/v1/uploads, services/evidence/uploads.py): a camera file of several megabytes on a
// weak network goes on from the offset the server has, across app restarts, instead of starting over. Each upload
// is keyed on its evidence's client id: tus-js-client's default fingerprint (name, type, size, mtime) is the same
// for every blob read back from IndexedDB. The outbox retries; tus-js-client itself does not.
import * as tus from 'tus-js-client'
import { reactive } from 'vue'
import { ApiError, OfflineError, bearerToken } from './http'

export const TUS_CHUNK_BYTES = 1024 * 1024

/** The original being sent now, for the upload line in 我的 (total 0: none). */
export const originalProgress = reactive({ sent: 0, total: 0 })

function asError(err: Error): Error {
  const detailed = err as tus.DetailedError
  const response = detailed.originalResponse
  if (!response) return new OfflineError(err.message)
  const status = response.getStatus()
  try {
    const body = JSON.parse(response.getBody() || '{}') as { code?: string; message?: string }
    return new ApiError(status, body.code ?? `http_${status}`, body.message ?? err.message)
  } catch {
    return new ApiError(status, `http_${status}`, err.message)
  }
}

function once(file: Blob, clientId: string, token: string | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      endpoint: '/api/v1/uploads',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      metadata: { evidence: clientId, role: 'original', filetype: file.type || 'application/octet-stream' },
      fingerprint: async () => `evidence:${clientId}:original`,
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      chunkSize: TUS_CHUNK_BYTES,
      retryDelays: [],
      uploadSize: file.size,
      onProgress: (sent, total) => Object.assign(originalProgress, { sent, total }),
      onSuccess: () => resolve(),
      onError: (err) => reject(asError(err)),
    })
    upload.findPreviousUploads().then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0])
      upload.start()
    }, reject)
  })
}

/** Send an evidence record's original; resumes an upload a previous attempt left half done. */
export async function uploadOriginal(clientId: string, file: Blob): Promise<void> {
  const token = await bearerToken()
  try {
    await once(file, clientId, token)
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401 && token)) throw err
    await once(file, clientId, await bearerToken(token)) // the token ran out mid-upload: once more, refreshed
  } finally {
    Object.assign(originalProgress, { sent: 0, total: 0 })
  }
}
