// An inspection on site, offline first. The draft (check-in, each item's result, note and photos, the signature)
// is kept on the phone at every change, per user, so a reload, an app kill or a user switch loses nothing. What the
// server must get goes through the one outbox in one ordered group per inspection: the check-in, each failed
// item's photos (queued when taken), then the submission naming the photos by their client ids.
import { checkIn, getInspection, myInspections, submitInspection, type CheckInBody, type InspectionDetail,
         type InspectionSummary, type ItemResultValue, type Signature, type SubmitBody } from '@/api/inspections'
import { attempt, db, type Result } from './db'
import { getKv, setKv } from './kv'
import { enqueueInTransaction, newClientId, outboxTables } from './outbox'
import { done, registerSender } from './outboxSenders'
import { originalsSetting, preparePhotos, queuePhotosInTransaction, type CapturedPhoto } from './reports'

export const KIND_CHECK_IN = 'inspection.checkIn'
export const KIND_SUBMIT = 'inspection.submit'

export interface DraftItem {
  result: ItemResultValue | null
  note: string
  /** the evidence client ids of this item's photos (already queued) */
  photos: string[]
}

export interface InspectionDraft {
  inspectionId: number
  checkIn: (CheckInBody & { distanceM: number }) | null
  items: Record<string, DraftItem>
  signature: Signature | null
  signerName: string
  refusedToSign: boolean
  refusalNote: string
  /** set once the submission is queued: nothing changes after that */
  submitted: { clientId: string; at: string } | null
  updatedAt: number
}

const draftKey = (userId: number, id: number) => `inspection-draft:${userId}:${id}`
const listKey = (userId: number) => `inspections:${userId}`
const detailKey = (userId: number, id: number) => `inspection:${userId}:${id}`
const group = (id: number) => `inspection:${id}`

export function emptyDraft(id: number): InspectionDraft {
  return { inspectionId: id, checkIn: null, items: {}, signature: null, signerName: '', refusedToSign: false,
           refusalNote: '', submitted: null, updatedAt: Date.now() }
}

export async function loadDraft(userId: number, id: number): Promise<InspectionDraft> {
  const kept = await getKv<InspectionDraft>(draftKey(userId, id))
  return kept.ok && kept.value ? kept.value : emptyDraft(id)
}

/** Saved at every change (a plain copy: Vue's proxies cannot go into IndexedDB). */
export function saveDraft(userId: number, draft: InspectionDraft): Promise<Result<void>> {
  return setKv(draftKey(userId, draft.inspectionId), JSON.parse(JSON.stringify({ ...draft, updatedAt: Date.now() })))
}

/** The list, from the server when online (kept for offline), else what was kept. */
export async function listInspections(userId: number): Promise<{ items: InspectionSummary[]; offline: boolean }> {
  try {
    const items = await myInspections()
    await setKv(listKey(userId), items)
    return { items, offline: false }
  } catch {
    const kept = await getKv<InspectionSummary[]>(listKey(userId))
    return { items: kept.ok && kept.value ? kept.value : [], offline: true }
  }
}

export async function loadInspection(userId: number, id: number): Promise<{ detail: InspectionDetail | null; offline: boolean }> {
  try {
    const detail = await getInspection(id)
    await setKv(detailKey(userId, id), detail)
    return { detail, offline: false }
  } catch {
    const kept = await getKv<InspectionDetail>(detailKey(userId, id))
    return { detail: kept.ok && kept.value ? kept.value : null, offline: true }
  }
}

/** Keep the open list's inspections for offline: the officer opens them later in a village without signal. */
export async function keepForOffline(userId: number, items: InspectionSummary[]): Promise<void> {
  for (const i of items.filter((x) => x.status !== 'submitted')) {
    const kept = await getKv<InspectionDetail>(detailKey(userId, i.id))
    if (kept.ok && kept.value) continue
    try {
      await setKv(detailKey(userId, i.id), await getInspection(i.id))
    } catch {
      return // offline again: the rest next time
    }
  }
}

/** Check in: the position and time now, kept in the draft and queued for the server, in one transaction. */
export async function queueCheckIn(userId: number, draft: InspectionDraft, body: CheckInBody,
                                   distanceM: number): Promise<Result<void>> {
  return attempt(() =>
    db.transaction('rw', [db.kv, ...outboxTables()], async () => {
      await enqueueInTransaction({ userId, kind: KIND_CHECK_IN, clientId: `checkin:${draft.inspectionId}:${newClientId()}`,
                                   group: group(draft.inspectionId), payload: { id: draft.inspectionId, body } })
      draft.checkIn = { ...body, distanceM }
      await db.kv.put({ key: draftKey(userId, draft.inspectionId), value: JSON.parse(JSON.stringify(draft)) })
    }),
  )
}

/** A failed item's photos: into the blob store and the inspection's group at once, named in the draft. */
export async function addPhotos(userId: number, draft: InspectionDraft, itemCode: string,
                                photos: CapturedPhoto[]): Promise<Result<void>> {
  const prepared = await preparePhotos(photos)
  const sendOriginals = await originalsSetting()
  return attempt(() =>
    db.transaction('rw', [db.kv, ...outboxTables()], async () => {
      const queueOriginals = await queuePhotosInTransaction(userId, prepared, group(draft.inspectionId), sendOriginals)
      await queueOriginals()
      const item = draft.items[itemCode] ?? { result: 'fail', note: '', photos: [] }
      item.photos = [...item.photos, ...prepared.map((p) => p.declaration.client_id)]
      draft.items[itemCode] = item
      await db.kv.put({ key: draftKey(userId, draft.inspectionId), value: JSON.parse(JSON.stringify(draft)) })
    }),
  )
}

export type SubmitProblem = 'not_checked_in' | 'items_missing' | 'photo_missing' | 'signature_missing' | 'refusal_note'

/** What still stops the submission, item codes where it is about items. */
export function problems(draft: InspectionDraft, itemCodes: string[]): { problem: SubmitProblem; codes: string[] }[] {
  const out: { problem: SubmitProblem; codes: string[] }[] = []
  if (!draft.checkIn) out.push({ problem: 'not_checked_in', codes: [] })
  const missing = itemCodes.filter((c) => !draft.items[c]?.result)
  if (missing.length) out.push({ problem: 'items_missing', codes: missing })
  const unproven = itemCodes.filter((c) => draft.items[c]?.result === 'fail' && !draft.items[c].photos.length)
  if (unproven.length) out.push({ problem: 'photo_missing', codes: unproven })
  if (!draft.refusedToSign && !draft.signature?.strokes.some((s) => s.length >= 2)) {
    out.push({ problem: 'signature_missing', codes: [] })
  }
  if (draft.refusedToSign && !draft.refusalNote.trim()) out.push({ problem: 'refusal_note', codes: [] })
  return out
}

/** Queue the submission once: the draft says it is submitted in the same transaction. */
export async function queueSubmit(userId: number, draft: InspectionDraft, itemCodes: string[]): Promise<Result<string>> {
  const clientId = draft.submitted?.clientId ?? newClientId()
  const plain = JSON.parse(JSON.stringify(draft)) as InspectionDraft // the page's draft is reactive: not cloneable
  const body: SubmitBody = {
    client_id: clientId,
    results: itemCodes.map((code) => ({ item_code: code, result: plain.items[code].result as ItemResultValue,
                                        note: plain.items[code].note.trim(), evidence_client_ids: plain.items[code].photos })),
    signature: plain.refusedToSign ? null : plain.signature,
    signer_name: plain.signerName.trim(),
    signed_at: new Date().toISOString(), // an offline submission is dated when it was signed, not when it arrives
    refused_to_sign: plain.refusedToSign,
    refusal_note: plain.refusalNote.trim(),
  }
  return attempt(() =>
    db.transaction('rw', [db.kv, ...outboxTables()], async () => {
      const kept = (await db.kv.get(draftKey(userId, draft.inspectionId)))?.value as InspectionDraft | undefined
      if (kept?.submitted) return kept.submitted.clientId // already queued (another tab, a double tap)
      await enqueueInTransaction({ userId, kind: KIND_SUBMIT, clientId, group: group(draft.inspectionId),
                                   payload: { id: draft.inspectionId, body } })
      draft.submitted = { clientId, at: new Date().toISOString() }
      await db.kv.put({ key: draftKey(userId, draft.inspectionId), value: JSON.parse(JSON.stringify(draft)) })
      return clientId
    }),
  )
}

/**
 * A submission queued here that is no longer in the outbox and not on the server was given up (放弃 on 我的, after
 * the server refused it): the draft opens for changes again, so the officer can correct it and submit anew.
 */
export async function reopenIfDiscarded(userId: number, draft: InspectionDraft, serverSubmitted: boolean): Promise<boolean> {
  if (!draft.submitted || serverSubmitted) return false
  const queued = await attempt(() => db.outbox.where('clientId').equals(`${draft.submitted!.clientId}`).count())
  if (!queued.ok || queued.value > 0) return false
  draft.submitted = null
  await saveDraft(userId, draft)
  return true
}

registerSender(
  KIND_CHECK_IN,
  async (item) => {
    const { id, body } = item.payload as { id: number; body: CheckInBody }
    await checkIn(id, body) // the first check-in stands: a retry changes nothing
    return done()
  },
  () => ({ what: 'inspectionCheckIn', n: 1 }),
)
registerSender(
  KIND_SUBMIT,
  async (item) => {
    const { id, body } = item.payload as { id: number; body: SubmitBody }
    await submitInspection(id, body) // the same client id: the stored submission
    return done()
  },
  () => ({ what: 'inspectionSubmit', n: 1 }),
)
