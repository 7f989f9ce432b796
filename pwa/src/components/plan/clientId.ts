// Client-made ids for tasks: one per form content, so sending the same form again after a lost answer is a retry
// the server recognises (it answers the task it already made), never a second task.

export function newClientId(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  // crypto.randomUUID needs a secure context (https or localhost); a town's intranet may serve plain http
  const bytes = new Uint8Array(16)
  if (typeof crypto !== 'undefined' && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(bytes)
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256)
  bytes[6] = (bytes[6] & 0x0f) | 0x40 // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80 // RFC 4122 variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Same request body (key order does not matter): then the same client_id is sent again. */
export function sameBody(a: object, b: object): boolean {
  const canon = (o: object) => JSON.stringify(Object.keys(o).sort().map((k) => [k, (o as Record<string, unknown>)[k]]))
  return canon(a) === canon(b)
}
