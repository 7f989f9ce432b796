// Binaries (photos) the outbox items need, in their own IndexedDB store: read the file first (readBlob), then put
// it in the same transaction as the item that references it; it is deleted with the last item that does.
import { attempt, db, type BlobRow, type Result } from './db'
import { newClientId } from './outbox'

export interface BlobBytes {
  bytes: ArrayBuffer
  type: string
}

/** Read a file or blob into bytes, outside any transaction (an IndexedDB transaction cannot wait for it). */
export async function readBlob(blob: Blob): Promise<BlobBytes> {
  if (typeof blob.arrayBuffer === 'function') return { bytes: await blob.arrayBuffer(), type: blob.type }
  // Blob.arrayBuffer is missing before Chrome 76 / Safari 14 (old DingTalk and WeChat webviews)
  const bytes = await new Promise<ArrayBuffer>((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result as ArrayBuffer)
    reader.onerror = () => reject(reader.error)
    reader.readAsArrayBuffer(blob)
  })
  return { bytes, type: blob.type }
}

/** Store bytes inside the caller's transaction (over outboxTables()); throws so the caller's write aborts. */
export async function putBlobInTransaction(userId: number, data: BlobBytes, id = newClientId()): Promise<BlobRow> {
  const row: BlobRow = { id, userId, bytes: data.bytes, type: data.type, size: data.bytes.byteLength, createdAt: Date.now() }
  await db.blobs.put(row)
  return row
}

export function putBlob(userId: number, blob: Blob, id?: string): Promise<Result<BlobRow>> {
  return attempt(async () => putBlobInTransaction(userId, await readBlob(blob), id))
}

export function getBlob(id: string): Promise<Result<Blob | undefined>> {
  return attempt(async () => blobOf(await db.blobs.get(id)))
}

export function blobOf(row: BlobRow | undefined): Blob | undefined {
  return row ? new Blob([row.bytes], { type: row.type }) : undefined
}

/** How much the user's waiting binaries take on this device. */
export function blobUsage(userId: number): Promise<Result<{ count: number; bytes: number }>> {
  return attempt(async () => {
    const rows = await db.blobs.where('userId').equals(userId).toArray()
    return { count: rows.length, bytes: rows.reduce((sum, r) => sum + r.size, 0) }
  })
}
