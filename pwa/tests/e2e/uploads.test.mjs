// Resumable evidence uploads with the real tus-js-client against the real server (gunicorn): a photo declared,
// its upload cut off halfway (between chunks, and inside a PATCH by a dropped connection), resumed from the
// offset the server reports, and the stored original byte-identical to the camera file.
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as tus from 'tus-js-client'
import { BASE_URL, MISSING_URL_MESSAGE } from './helpers.mjs'
import { api, apiLogin } from './api.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const SHARED = process.env.GRIDPATROL_SHARED_DATA ?? path.resolve(HERE, '../../../../shared/data')
const PHOTO = readFileSync(path.join(SHARED, 'photos', 'exif-samples__hdr_iphone_hdr_YES.jpg'))
const CHUNK = 256 * 1024

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

/** What the PWA keeps in IndexedDB: the upload URL per fingerprint, so a restarted app resumes. */
class MemoryUrlStorage {
  constructor() { this.items = new Map() }
  async findAllUploads() { return [...this.items.values()] }
  async findUploadsByFingerprint(fp) { return [...this.items.values()].filter((u) => u.fingerprint === fp) }
  async removeUpload(key) { this.items.delete(key) }
  async addUpload(fp, upload) { const key = `${fp}:${this.items.size}`; this.items.set(key, { ...upload, fingerprint: fp, urlStorageKey: key }); return key }
}

async function declare(token, clientId, bytes) {
  const form = new FormData()
  for (const [k, v] of Object.entries({ client_id: clientId, captured_at: new Date().toISOString(), lon: '115.61',
    lat: '38.08', accuracy_m: '7', sha256: sha256(bytes) })) form.set(k, v)
  return api('POST', '/evidence', token, form)
}

function tusUpload(token, clientId, bytes, urlStorage, handlers = {}) {
  return new tus.Upload(bytes, {
    endpoint: `${BASE_URL}/api/v1/uploads`,
    headers: { Authorization: `Bearer ${token}` },
    metadata: { evidence: clientId, role: 'original', filetype: 'image/jpeg' },
    // keyed on the evidence's client id: the default fingerprint (name, type, size, mtime) collides for blobs
    // read back from IndexedDB
    fingerprint: async () => `evidence:${clientId}:original`,
    urlStorage,
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    chunkSize: CHUNK,
    retryDelays: [0, 200],
    uploadSize: bytes.length,
    ...handlers,
  })
}

function start(upload, { abortAfterBytes } = {}) {
  return new Promise((resolve, reject) => {
    upload.options.onError = reject
    upload.options.onSuccess = () => resolve('done')
    upload.options.onChunkComplete = (_size, accepted) => {
      if (abortAfterBytes !== undefined && accepted >= abortAfterBytes) upload.abort().then(() => resolve('aborted'))
    }
    upload.start()
  })
}

async function head(token, url) {
  const response = await fetch(url, { method: 'HEAD', headers: { Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0' } })
  return { status: response.status, offset: Number(response.headers.get('upload-offset')) }
}

describe('tus uploads with tus-js-client', { skip: BASE_URL ? false : MISSING_URL_MESSAGE }, () => {
  let token
  before(async () => { token = (await apiLogin('officer1')).access_token })

  test('cut off halfway between chunks, resumed from the stored URL', async () => {
    const clientId = `ev-${randomUUID()}`
    const record = await declare(token, clientId, PHOTO)
    const storage = new MemoryUrlStorage()
    const half = Math.floor(PHOTO.length / 2)
    const first = tusUpload(token, clientId, PHOTO, storage)
    assert.equal(await start(first, { abortAfterBytes: half }), 'aborted')
    const [stored] = await storage.findUploadsByFingerprint(`evidence:${clientId}:original`)
    assert.ok(stored, 'the upload URL was kept for resuming')
    const before = await head(token, stored.uploadUrl)
    assert.equal(before.status, 200)
    assert.ok(before.offset >= half && before.offset < PHOTO.length, `server holds ${before.offset} bytes`)
    assert.equal((await api('GET', `/evidence/${record.id}`, token)).files.length, 0, 'nothing visible yet')

    // the app restarts: a new Upload object finds the previous upload by its fingerprint and resumes it
    const sent = []
    const second = tusUpload(token, clientId, PHOTO, storage, { onProgress: (bytes) => sent.push(bytes) })
    const previous = await second.findPreviousUploads()
    assert.equal(previous.length, 1)
    second.resumeFromPreviousUpload(previous[0])
    assert.equal(await start(second), 'done')
    assert.ok(sent[0] >= before.offset, `the second run started where the server stood (${before.offset}), not at ${sent[0]}`)

    const done = await api('GET', `/evidence/${record.id}`, token)
    const original = done.files.find((f) => f.role === 'original')
    assert.equal(original.sha256, sha256(PHOTO))
    assert.deepEqual(done.expected, [])
    const body = Buffer.from(await (await fetch(`${BASE_URL}${original.url}`, { headers: { Authorization: `Bearer ${token}` } })).arrayBuffer())
    assert.equal(sha256(body), sha256(PHOTO))
    assert.equal((await storage.findAllUploads()).length, 0, 'forgotten once finished')
  })

  test('a connection dropped inside a PATCH keeps what arrived', async () => {
    const clientId = `ev-${randomUUID()}`
    const record = await declare(token, clientId, PHOTO)
    const created = await fetch(`${BASE_URL}/api/v1/uploads`, { method: 'POST', headers: {
      Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Length': String(PHOTO.length),
      'Upload-Metadata': `evidence ${Buffer.from(clientId).toString('base64')},role ${Buffer.from('original').toString('base64')}` } })
    assert.equal(created.status, 201)
    const url = new URL(created.headers.get('location'), BASE_URL).href

    // one PATCH announcing the whole file, the socket destroyed after 600 KB of it
    const cutAt = 600 * 1024
    await new Promise((resolve) => {
      const request = http.request(url, { method: 'PATCH', headers: {
        Authorization: `Bearer ${token}`, 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0',
        'Content-Type': 'application/offset+octet-stream', 'Content-Length': String(PHOTO.length) } })
      request.on('error', resolve)
      request.on('response', resolve)
      request.write(PHOTO.subarray(0, cutAt), () => setImmediate(() => request.destroy()))
    })
    let state = await head(token, url)
    for (let i = 0; i < 50 && state.offset === 0; i++) { // the worker commits what arrived once it sees the drop
      await new Promise((r) => setTimeout(r, 100))
      state = await head(token, url)
    }
    assert.equal(state.status, 200)
    assert.ok(state.offset > 0 && state.offset <= cutAt, `kept ${state.offset} of the ${cutAt} bytes sent`)

    const storage = new MemoryUrlStorage()
    await storage.addUpload(`evidence:${clientId}:original`, { uploadUrl: url, size: PHOTO.length })
    const resumed = tusUpload(token, clientId, PHOTO, storage)
    resumed.resumeFromPreviousUpload((await resumed.findPreviousUploads())[0])
    assert.equal(await start(resumed), 'done')
    const done = await api('GET', `/evidence/${record.id}`, token)
    assert.equal(done.files.find((f) => f.role === 'original').sha256, sha256(PHOTO))
    assert.equal((await api('GET', `/evidence/${record.id}/verify`, token)).ok, true)
  })
})
