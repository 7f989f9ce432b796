// Draws the app icons (a 3×3 patrol grid, one cell highlighted) as PNGs with node's zlib only, no native deps.
// Run once with `npm run icons`; the PNGs are committed under public/icons/.
import { writeFileSync, mkdirSync } from 'node:fs'
import { deflateSync } from 'node:zlib'

const BLUE = [31, 78, 168] // #1f4ea8, the theme colour
const WHITE = [255, 255, 255]
const ORANGE = [255, 159, 28]

function crc32(buf) {
  let c, crc = 0xffffffff
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    crc = (crc >>> 8) ^ c
  }
  return (crc ^ 0xffffffff) >>> 0
}

function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}

function png(size, rgba) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4)
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0
  const raw = Buffer.alloc((size * 4 + 1) * size)
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ])
}

// Colour of one sample point in unit coordinates (0..1); null = transparent.
function sample(u, v, maskable) {
  if (!maskable) {
    // rounded square, radius 0.18
    const r = 0.18
    const dx = Math.max(r - u, 0, u - (1 - r)), dy = Math.max(r - v, 0, v - (1 - r))
    if (dx * dx + dy * dy > r * r) return null
  }
  // content box: maskable icons keep content inside the 80 % safe zone
  const pad = maskable ? 0.27 : 0.2
  const lo = pad, hi = 1 - pad, cell = (hi - lo) / 3, line = cell * 0.12
  if (u >= lo && u <= hi && v >= lo && v <= hi) {
    const cu = (u - lo) / cell, cv = (v - lo) / cell
    const onLine = [0, 1, 2, 3].some((k) => Math.abs(u - (lo + k * cell)) < line / 2 || Math.abs(v - (lo + k * cell)) < line / 2)
    if (onLine) return WHITE
    if (Math.floor(cu) === 1 && Math.floor(cv) === 1) return ORANGE
  }
  return BLUE
}

function draw(size, maskable) {
  const ss = 4, buf = Buffer.alloc(size * size * 4)
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let r = 0, g = 0, b = 0, a = 0
    for (let sy = 0; sy < ss; sy++) for (let sx = 0; sx < ss; sx++) {
      const c = sample((x + (sx + 0.5) / ss) / size, (y + (sy + 0.5) / ss) / size, maskable)
      if (c) { r += c[0]; g += c[1]; b += c[2]; a += 1 }
    }
    const i = (y * size + x) * 4
    if (a) { buf[i] = r / a; buf[i + 1] = g / a; buf[i + 2] = b / a }
    buf[i + 3] = Math.round((a / (ss * ss)) * 255)
  }
  return png(size, buf)
}

const out = new URL('../public/icons/', import.meta.url)
mkdirSync(out, { recursive: true })
for (const [name, size, maskable] of [
  ['icon-192.png', 192, false], ['icon-512.png', 512, false],
  ['maskable-192.png', 192, true], ['maskable-512.png', 512, true],
  ['apple-touch-icon-180.png', 180, true], ['favicon-32.png', 32, false],
]) {
  writeFileSync(new URL(name, out), draw(size, maskable))
  console.log('wrote', name)
}
