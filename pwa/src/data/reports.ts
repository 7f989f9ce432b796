// Reporting a problem (问题上报) from the phone, offline first. One report is one outbox group, sent in order:
// each photo's display copy (which declares its evidence record: capture hash, position, time), then the case
// naming its photos by their client ids, then the originals (on Wi-Fi by default: they can be megabytes and the
// case must not wait for them). Photos sit in the blob store until the server has them; nothing is lost on a
// reload, an app kill or a user switch. A step of a case (handled, with its "after" photos) goes the same way.
import { postAction, reportCase, sendEvidenceFile, type ActionBody, type EvidenceDeclaration, type NewCase } from '@/api/cases'
import { ApiError } from '@/api/http'
import { uploadOriginal } from '@/api/uploads'
import { displayCopy, sha256Hex } from '@/lib/photos'
import { readBlob, putBlobInTransaction, type BlobBytes } from './blobs'
import { attempt, db, type OutboxRow, type Result } from './db'
import { enqueueInTransaction, newClientId, outboxTables } from './outbox'
import { done, registerSender, retryLater, type SendContext } from './outboxSenders'
import { loadServerConfig } from './settings'

export const KIND_PHOTO = 'evidence.photo'
export const KIND_ORIGINAL = 'evidence.original'
export const KIND_CASE = 'case.report'
export const KIND_ACTION = 'case.action'

export interface CapturedPhoto {
  file: Blob
  /** the phone's time and position at the shutter */
  capturedAt: Date
  lon: number | null
  lat: number | null
  accuracy: number | null
}

export interface ReportDraft {
  category: string
  description: string
  lon: number
  lat: number
  accuracy: number | null
  photos: CapturedPhoto[]
}

interface PhotoPayload {
  declaration: EvidenceDeclaration
  /** the display copy's blob, or the original's when this browser could not make one (HEIC) */
  role: 'display' | 'original'
  expected: ('original' | 'display')[]
}

export interface PreparedPhoto {
  declaration: EvidenceDeclaration
  original: BlobBytes
  display: BlobBytes | null
}

async function prepare(photo: CapturedPhoto): Promise<PreparedPhoto> {
  const original = await readBlob(photo.file)
  const copy = await displayCopy(photo.file)
  return {
    declaration: {
      client_id: newClientId(), captured_at: photo.capturedAt.toISOString(), sha256: await sha256Hex(original.bytes),
      lon: photo.lon, lat: photo.lat, accuracy_m: photo.accuracy,
    },
    original,
    display: copy ? await readBlob(copy) : null,
  }
}

export async function preparePhotos(photos: CapturedPhoto[]): Promise<PreparedPhoto[]> {
  return Promise.all(photos.map(prepare)) // outside any transaction: it cannot wait for this
}

export async function originalsSetting(): Promise<'always' | 'wifi' | 'never'> {
  const config = await loadServerConfig()
  return (config.ok ? config.value?.original_upload : undefined) ?? 'wifi'
}

/**
 * Inside the caller's transaction (over outboxTables()): each photo's first file in `group` (before what names
 * them), and its original in a group of its own that waits for nothing.
 */
export async function queuePhotosInTransaction(userId: number, prepared: PreparedPhoto[], group: string,
                                        sendOriginals: string): Promise<() => Promise<void>> {
  for (const p of prepared) {
    const laterOriginal = p.display !== null && sendOriginals !== 'never'
    const first = await putBlobInTransaction(userId, p.display ?? p.original)
    await enqueueInTransaction({
      userId, kind: KIND_PHOTO, clientId: `${p.declaration.client_id}:first`, group, blobIds: [first.id],
      payload: { declaration: p.declaration, role: p.display ? 'display' : 'original',
                 expected: laterOriginal ? ['original'] : [] } satisfies PhotoPayload,
    })
  }
  // the originals go after what names the photos: call this once that is queued
  return async () => {
    for (const p of prepared) {
      if (p.display === null || sendOriginals === 'never') continue
      const original = await putBlobInTransaction(userId, p.original)
      await enqueueInTransaction({
        userId, kind: KIND_ORIGINAL, clientId: `${p.declaration.client_id}:original`,
        group: `original:${p.declaration.client_id}`, blobIds: [original.id],
        payload: { declaration: p.declaration, role: 'original', expected: [] } satisfies PhotoPayload,
      })
    }
  }
}

/** Keep a report and its photos on the phone and queue it; returns the case's client id. */
export async function saveReport(userId: number, draft: ReportDraft, now = new Date()): Promise<Result<string>> {
  const prepared = await preparePhotos(draft.photos)
  const sendOriginals = await originalsSetting()
  const caseId = newClientId()
  const group = `report:${caseId}`
  return attempt(() =>
    db.transaction('rw', outboxTables(), async () => {
      const queueOriginals = await queuePhotosInTransaction(userId, prepared, group, sendOriginals)
      const body: NewCase = {
        client_id: caseId, category: draft.category, lon: draft.lon, lat: draft.lat, accuracy_m: draft.accuracy,
        description: draft.description, evidence_client_ids: prepared.map((p) => p.declaration.client_id),
        reported_at: now.toISOString(),
      }
      await enqueueInTransaction({ userId, kind: KIND_CASE, clientId: caseId, group, payload: { body } })
      await queueOriginals()
      return caseId
    }),
  )
}

/** A step of a case's cycle taken on this phone (with its photos, e.g. the "after" photos), sent in order. */
export async function queueAction(userId: number, caseId: number, body: Omit<ActionBody, 'client_id' |
  'evidence_client_ids'>, photos: CapturedPhoto[] = []): Promise<Result<string>> {
  const prepared = await preparePhotos(photos)
  const sendOriginals = await originalsSetting()
  const clientId = newClientId()
  return attempt(() =>
    db.transaction('rw', outboxTables(), async () => {
      const group = `case:${caseId}` // one case's steps go in the order they were taken
      const queueOriginals = await queuePhotosInTransaction(userId, prepared, group, sendOriginals)
      const action: ActionBody = { ...body, client_id: clientId,
                                   evidence_client_ids: prepared.map((p) => p.declaration.client_id) }
      await enqueueInTransaction({ userId, kind: KIND_ACTION, clientId, group, payload: { caseId, action } })
      await queueOriginals()
      return clientId
    }),
  )
}

async function blobFor(item: OutboxRow, ctx: SendContext): Promise<Blob | undefined> {
  return item.blobIds[0] ? ctx.getBlob(item.blobIds[0]) : undefined
}

async function sendPhoto(item: OutboxRow, ctx: SendContext) {
  const payload = item.payload as PhotoPayload
  const blob = await blobFor(item, ctx)
  if (!blob) return retryLater('photo missing on this device', 'client_error')
  await sendEvidenceFile(payload.declaration, payload.role, blob, payload.expected)
  return done()
}

/** On a metered connection (when the browser says so) an original waits for Wi-Fi, unless set to always. */
async function sendOriginal(item: OutboxRow, ctx: SendContext) {
  const when = await originalsSetting()
  const connection = (navigator as Navigator & { connection?: { type?: string; saveData?: boolean } }).connection
  if (when === 'wifi' && (connection?.type === 'cellular' || connection?.saveData)) {
    return retryLater('waiting for Wi-Fi', 'waiting_wifi')
  }
  const blob = await blobFor(item, ctx)
  if (!blob) return retryLater('photo missing on this device', 'client_error')
  const payload = item.payload as PhotoPayload
  try {
    await uploadOriginal(payload.declaration.client_id, blob) // resumable
  } catch (err) {
    // the display copy that declares the record has not gone yet (its group waits; this one does not): the plain
    // upload declares it with the original
    if (!(err instanceof ApiError && err.code === 'upload_evidence_unknown')) throw err
    await sendEvidenceFile(payload.declaration, 'original', blob, payload.expected)
  }
  return done()
}

registerSender(KIND_PHOTO, sendPhoto, () => ({ what: 'photo', n: 1 }))
registerSender(KIND_ORIGINAL, sendOriginal, () => ({ what: 'original', n: 1 }))
registerSender(
  KIND_CASE,
  async (item) => {
    await reportCase((item.payload as { body: NewCase }).body)
    return done()
  },
  () => ({ what: 'caseReport', n: 1 }),
)
registerSender(
  KIND_ACTION,
  async (item) => {
    const { caseId, action } = item.payload as { caseId: number; action: ActionBody }
    await postAction(caseId, action) // a retry under the same client_id is answered with the stored step
    return done()
  },
  () => ({ what: 'caseAction', n: 1 }),
)
