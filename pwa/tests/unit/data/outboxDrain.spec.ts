// The one outbox: ordering groups, senders per kind, backoff with jitter, only the owner's tokens, unknown kinds
// reported, storage errors returned, blobs with their items, and the pending summary in words.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { PatrolServer } from './patrolServer'
import { loadApp, uniqueDbName } from '../appHarness'
import type { OutboxRow } from '@/data/db'
import { eventually } from '../eventually'


afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

const OFFICER = 11
const LEADER = 12

async function setup(server = new PatrolServer(), dbName = uniqueDbName(), user = 'officer1') {
  const app = await loadApp(server, dbName)
  await app.login(user, 'gridpatrol-demo')
  const drain = await import('@/data/outboxDrain')
  const senders = await import('@/data/outboxSenders')
  const outbox = await import('@/data/outbox')
  const summary = await import('@/data/outboxSummary')
  const blobs = await import('@/data/blobs')
  const { ApiError, OfflineError } = await import('@/api/http')
  return { app, server, drain, senders, outbox, summary, blobs, ApiError, OfflineError, dbName }
}

function ok<T>(r: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!r.ok) throw r.error
  return r.value
}

/** A sender that records what it was asked to send and answers from a script (default: done). */
function scripted(s: Awaited<ReturnType<typeof setup>>, kind: string) {
  const sent: unknown[] = []
  const script: (() => never | void)[] = []
  s.senders.registerSender(kind, async (item: OutboxRow) => {
    const step = script.shift()
    step?.()
    sent.push(item.payload)
    return s.senders.done()
  })
  return { sent, script }
}

describe('ordering groups', () => {
  it('sends one group strictly in order; a refused item holds back only its own group', async () => {
    const s = await setup()
    const { sent, script } = scripted(s, 'test.echo')
    for (const [group, n] of [['a', 1], ['b', 1], ['a', 2], ['b', 2], ['a', 3]] as const)
      ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', group, payload: `${group}${n}` }))
    script.push(() => undefined, () => { throw new s.ApiError(409, 'conflict', '记录冲突') })
    const report = await s.drain.drainOutbox(OFFICER)
    expect(report).toMatchObject({ status: 'done', sent: 3, refused: 1 })
    // a1 went, b1 was refused: b2 waits behind it, while a2 and a3 go on
    expect(sent).toEqual(['a1', 'a2', 'a3'])
    const left = ok(await s.outbox.listPending(OFFICER))
    expect(left.map((r) => [r.payload, r.state, r.lastError])).toEqual([['b1', 'refused', '记录冲突'], ['b2', 'pending', null]])

    // the officer presses upload: b1 goes this time, then b2, in that order
    expect(await s.drain.drainOutbox(OFFICER, { force: true })).toMatchObject({ status: 'done', sent: 2 })
    expect(sent).toEqual(['a1', 'a2', 'a3', 'b1', 'b2'])
  })

  it('a server failure holds back its group for a retry while other groups flow; the drain says so', async () => {
    const s = await setup()
    const { sent, script } = scripted(s, 'test.echo')
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', group: 'a', payload: 'a1' }))
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', group: 'a', payload: 'a2' }))
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', group: 'b', payload: 'b1' }))
    script.push(() => { throw new s.ApiError(503, 'http_503', 'HTTP 503') })
    expect(await s.drain.drainOutbox(OFFICER)).toMatchObject({ status: 'server', sent: 1, retried: 1 })
    expect(sent).toEqual(['b1'])
  })

  it('stops at the first network failure and keeps everything for the next try, without counting it', async () => {
    const s = await setup()
    const { sent, script } = scripted(s, 'test.echo')
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', group: 'a', payload: 'a1' }))
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', group: 'b', payload: 'b1' }))
    script.push(() => { throw new s.OfflineError() })
    expect((await s.drain.drainOutbox(OFFICER)).status).toBe('offline')
    expect(sent).toEqual([])
    const [a1] = ok(await s.outbox.listPending(OFFICER))
    expect(a1).toMatchObject({ attempts: 0, nextAttemptAt: 0, state: 'pending' }) // due at once when back online
    expect(await s.drain.drainOutbox(OFFICER)).toMatchObject({ status: 'done', sent: 2 })
  })
})

describe('backoff', () => {
  it('grows exponentially with jitter, capped', async () => {
    const { backoffMs, BACKOFF_BASE_MS, BACKOFF_MAX_MS } = await import('@/data/outboxDrain')
    expect(backoffMs(1, () => 1)).toBe(BACKOFF_BASE_MS)
    expect(backoffMs(1, () => 0)).toBe(BACKOFF_BASE_MS / 2)
    expect(backoffMs(2, () => 1)).toBe(2 * BACKOFF_BASE_MS)
    expect(backoffMs(4, () => 1)).toBe(8 * BACKOFF_BASE_MS)
    expect(backoffMs(40, () => 1)).toBe(BACKOFF_MAX_MS)
    const spread = new Set(Array.from({ length: 20 }, () => backoffMs(3)))
    expect(spread.size).toBeGreaterThan(1) // jitter: phones that failed together do not retry together
    for (const d of spread) expect(d >= 2 * BACKOFF_BASE_MS && d <= 4 * BACKOFF_BASE_MS).toBe(true)
  })

  it('keeps a failed item back until its persisted next attempt, also after a reload; the button overrides it', async () => {
    const s = await setup()
    let clock = 1_000_000
    const now = () => clock
    const { sent, script } = scripted(s, 'test.echo')
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', payload: 'x' }))
    const fail = () => { throw new s.ApiError(502, 'http_502', 'HTTP 502 Bad Gateway') }
    script.push(fail)
    expect((await s.drain.drainOutbox(OFFICER, { now, random: () => 1 })).status).toBe('server')
    let [item] = ok(await s.outbox.listPending(OFFICER))
    expect(item).toMatchObject({ attempts: 1, state: 'retry', nextAttemptAt: clock + 5_000, lastErrorCode: 'http_502' })

    clock += 4_999
    expect(await s.drain.drainOutbox(OFFICER, { now })).toMatchObject({ status: 'done', sent: 0, waiting: 1 })
    clock += 1
    script.push(fail)
    expect((await s.drain.drainOutbox(OFFICER, { now, random: () => 1 })).status).toBe('server')
    ;[item] = ok(await s.outbox.listPending(OFFICER))
    expect(item).toMatchObject({ attempts: 2, nextAttemptAt: clock + 10_000 })

    // a reload: the next attempt time is in IndexedDB, not in memory
    const again = await setup(s.server, s.dbName)
    const echo = scripted(again, 'test.echo')
    expect(await again.drain.drainOutbox(OFFICER, { now })).toMatchObject({ sent: 0, waiting: 1 })
    expect(await again.drain.drainOutbox(OFFICER, { now, force: true })).toMatchObject({ status: 'done', sent: 1 })
    expect(echo.sent).toEqual(['x'])
    expect(sent).toEqual([])
  })

  it('retries a refused item only after minutes, never in a tight loop', async () => {
    const s = await setup()
    const { script } = scripted(s, 'test.echo')
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', payload: 'x' }))
    script.push(() => { throw new s.ApiError(400, 'validation_error', '数据有误') })
    await s.drain.drainOutbox(OFFICER, { now: () => 0 })
    const [item] = ok(await s.outbox.listPending(OFFICER))
    expect(item.nextAttemptAt).toBeGreaterThanOrEqual(s.drain.REFUSED_RETRY_MIN_MS)
  })
})

describe('per-user separation', () => {
  it("sends a user's items only with that user's token; another user's login neither sends nor deletes them", async () => {
    const s = await setup()
    const calls: { user: number; tokenUser: number | undefined }[] = []
    const { authUserId } = s.app.http
    s.senders.registerSender('test.who', async (item) => {
      calls.push({ user: item.userId, tokenUser: authUserId() ?? undefined })
      return s.senders.done()
    })
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.who', payload: 1 }))
    await s.app.logout()
    await s.app.login('leader1', 'gridpatrol-demo')
    ok(await s.outbox.enqueue({ userId: LEADER, kind: 'test.who', payload: 2 }))

    // the drain of officer1's items while leader1 holds the tokens stops before sending anything
    expect((await s.drain.drainOutbox(OFFICER)).status).toBe('auth')
    expect(calls).toEqual([])
    expect(await s.drain.drainOutbox(LEADER)).toMatchObject({ status: 'done', sent: 1 })
    expect(calls).toEqual([{ user: LEADER, tokenUser: LEADER }])
    expect(ok(await s.outbox.pendingCount(OFFICER))).toBe(1)

    await s.app.logout()
    await s.app.login('officer1', 'gridpatrol-demo')
    expect(await s.drain.drainOutbox(OFFICER)).toMatchObject({ status: 'done', sent: 1 })
    expect(calls.at(-1)).toEqual({ user: OFFICER, tokenUser: OFFICER })
  })

  it('the triggers drain only the user logged in now', async () => {
    const s = await setup()
    const sent: number[] = []
    s.senders.registerSender('test.who', async (item) => {
      sent.push(item.userId)
      return s.senders.done()
    })
    ok(await s.outbox.enqueue({ userId: LEADER, kind: 'test.who', payload: 'leader' }))
    const stop = s.drain.startOutboxSync({ userId: () => s.app.session.userId })
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.who', payload: 'officer' }))
    await eventually(() => expect(sent).toEqual([OFFICER])) // started by the enqueue
    stop()
    expect(ok(await s.outbox.pendingCount(LEADER))).toBe(1)
  })
})

describe('unknown kinds', () => {
  it('an item no sender is registered for is reported and kept, and holds back nothing else', async () => {
    const s = await setup()
    const { sent } = scripted(s, 'test.echo')
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'case.report.v9', payload: 'from a newer app' }))
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', payload: 'mine' }))
    const report = await s.drain.drainOutbox(OFFICER)
    expect(report).toMatchObject({ status: 'done', sent: 1, unknownKinds: ['case.report.v9'] })
    expect(sent).toEqual(['mine'])
    const summary = ok(await s.summary.outboxSummary(OFFICER))
    expect(summary.unknown).toEqual([{ kind: 'case.report.v9', n: 1 }])
    expect(summary.lines).toEqual([{ what: 'unknown', n: 1 }])
    const { pendingText } = await import('@/composables/useOutbox')
    expect(pendingText(summary.lines)).toBe('待上传：无法识别的记录 1 项')
  })
})

describe('storage errors', () => {
  it('an enqueue that fails (quota full) aborts the feature record with it, and the error is returned', async () => {
    const s = await setup()
    const patrols = await import('@/data/patrols')
    vi.spyOn(s.app.db.outbox, 'add').mockRejectedValue(new DOMException('disk full', 'QuotaExceededError'))
    const r = await patrols.createPatrol({ userId: OFFICER })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.kind).toBe('quota')
    expect(await s.app.db.patrols.count()).toBe(0) // no patrol without its start upload
    const { describeError } = await import('@/composables/useNotify')
    expect(describeError(r.error)).toBe('本机存储空间已满，请清理手机空间')
  })

  it('a storage failure while draining stops the drain and is reported, never swallowed', async () => {
    const s = await setup()
    const { script } = scripted(s, 'test.echo')
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.echo', payload: 'x' }))
    script.push(() => { throw new s.ApiError(500, 'http_500', 'HTTP 500') })
    vi.spyOn(s.app.db.outbox, 'update').mockRejectedValue(new DOMException('disk full', 'QuotaExceededError'))
    const report = await s.drain.drainOutbox(OFFICER)
    expect(report.status).toBe('storage')
    expect(report.error?.kind).toBe('quota')
  })

  it('other storage errors read as what to do, without the browser’s English text', async () => {
    const s = await setup()
    const { describeError } = await import('@/composables/useNotify')
    const { StorageError } = s.app.dbMod
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    const text = describeError(new StorageError('unknown', 'UnknownError: Internal error opening backing store'))
    expect(text).not.toMatch(/[A-Za-z]{4,}/)
    expect(text).toMatch(/重新打开应用/)
    expect(warn).toHaveBeenCalled() // the details stay in the console
    expect(describeError(new StorageError('unavailable', 'MissingAPIError'))).toMatch(/普通模式/)
  })
})

describe('blob store', () => {
  it('stores a photo with its item in one transaction, hands it to the sender, and deletes it with the last item', async () => {
    const s = await setup()
    const { db } = s.app
    const received: string[] = []
    s.senders.registerSender('test.photo', async (item, ctx) => {
      const blob = await ctx.getBlob(item.blobIds[0])
      received.push(blob ? `${blob.type}:${blob.size}` : 'missing')
      return s.senders.done()
    })
    const photo = await s.blobs.readBlob(new Blob([new Uint8Array(2048)], { type: 'image/jpeg' }))
    const id = await db.transaction('rw', s.outbox.outboxTables(), async () => {
      const row = await s.blobs.putBlobInTransaction(OFFICER, photo)
      await s.outbox.enqueueInTransaction({ userId: OFFICER, kind: 'test.photo', group: 'case:1', payload: 'p1', blobIds: [row.id] })
      await s.outbox.enqueueInTransaction({ userId: OFFICER, kind: 'test.photo', group: 'case:1', payload: 'p2', blobIds: [row.id] })
      return row.id
    })
    expect(ok(await s.blobs.blobUsage(OFFICER))).toEqual({ count: 1, bytes: 2048 })
    const second = ok(await s.outbox.listPending(OFFICER))[1]
    await db.outbox.update(second.seq!, { nextAttemptAt: Number.MAX_SAFE_INTEGER }) // only the first can go now
    await s.drain.drainOutbox(OFFICER)
    expect(received).toEqual(['image/jpeg:2048'])
    expect(ok(await s.blobs.getBlob(id))?.size).toBe(2048) // the second item still needs it
    await s.drain.drainOutbox(OFFICER, { force: true })
    expect(received).toEqual(['image/jpeg:2048', 'image/jpeg:2048'])
    expect(ok(await s.blobs.getBlob(id))).toBeUndefined()
  })

  it('a blob that does not fit (quota) is an error returned to the feature', async () => {
    const s = await setup()
    vi.spyOn(s.app.db.blobs, 'put').mockRejectedValue(new DOMException('disk full', 'QuotaExceededError'))
    const r = await s.blobs.putBlob(OFFICER, new Blob(['x']))
    expect(r.ok === false && r.error.kind).toBe('quota')
  })

  it('discarding a refused item (its owner only) takes its blobs with it; nothing else is ever discarded', async () => {
    const s = await setup()
    s.senders.registerSender('test.photo', async () => s.senders.refused('照片太大', 'too_large'))
    const blob = ok(await s.blobs.putBlob(OFFICER, new Blob(['jpeg'])))
    const item = ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.photo', payload: 1, blobIds: [blob.id] }))
    expect(ok(await s.outbox.discardRefused(item.seq!, OFFICER))).toBe(false) // not refused yet
    await s.drain.drainOutbox(OFFICER)
    expect(ok(await s.outbox.discardRefused(item.seq!, LEADER))).toBe(false) // not theirs
    expect(ok(await s.outbox.discardRefused(item.seq!, OFFICER))).toBe(true)
    expect(ok(await s.outbox.pendingCount(OFFICER))).toBe(0)
    expect(ok(await s.blobs.getBlob(blob.id))).toBeUndefined()
  })
})

describe('Web Locks', () => {
  it('without Web Locks one drain runs per tab; a drain asked for meanwhile makes it go round again', async () => {
    const s = await setup()
    vi.stubGlobal('navigator', { ...navigator, locks: undefined })
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const sent: string[] = []
    s.senders.registerSender('test.slow', async (item) => {
      if (item.payload === 'first') await gate
      sent.push(String(item.payload))
      return s.senders.done()
    })
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.slow', payload: 'first' }))
    const running = s.drain.drainOutbox(OFFICER)
    ok(await s.outbox.enqueue({ userId: OFFICER, kind: 'test.slow', payload: 'second' }))
    expect((await s.drain.drainOutbox(OFFICER)).status).toBe('busy')
    release()
    // one report for both rounds: a listener waiting for "sent" must hear of the first item too
    expect(await running).toMatchObject({ status: 'done', sent: 2, sentKinds: { 'test.slow': 2 } })
    expect(sent).toEqual(['first', 'second'])
  })
})

describe('pending summary', () => {
  it('says what waits in words: the track in fixes (cut or not yet), the start and the end', async () => {
    const s = await setup()
    const patrols = await import('@/data/patrols')
    const p = ok(await patrols.createPatrol({ userId: OFFICER, now: 1_000 }))
    for (let i = 0; i < 21; i++)
      ok(await patrols.appendFix(p.clientId, { t: 2_000 + i * 1000, lon: 115.5, lat: 38.1, accuracyM: 5, speedMps: null, headingDeg: null, altitudeM: null, part: 0 }))
    ok(await patrols.cutBatch(p.clientId))
    ok(await patrols.appendFix(p.clientId, { t: 30_000, lon: 115.5, lat: 38.1, accuracyM: 5, speedMps: null, headingDeg: null, altitudeM: null, part: 0 }))
    const { pendingText } = await import('@/composables/useOutbox')
    expect(pendingText(ok(await s.summary.outboxSummary(OFFICER)).lines)).toBe('待上传：开始巡查 1 次、巡查轨迹 22 个点')
    ok(await patrols.finishPatrol(p.clientId, 40_000, 'user'))
    const summary = ok(await s.summary.outboxSummary(OFFICER))
    expect(pendingText(summary.lines)).toBe('待上传：开始巡查 1 次、巡查轨迹 22 个点、结束巡查 1 次')
    expect(summary.items).toBe(4)
    const { setLocale } = await import('@/i18n')
    setLocale('en')
    expect(pendingText(summary.lines)).toBe('Not yet uploaded: patrol start 1, patrol track 22 fixes, patrol end 1')
    setLocale('zh-CN')
    await s.drain.drainOutbox(OFFICER)
    expect(pendingText(ok(await s.summary.outboxSummary(OFFICER)).lines)).toBe('全部已上传')
  })
})
