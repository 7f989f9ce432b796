// Colours as the screen shows them: decodes Chromium's PNG screenshots (8-bit RGB/RGBA, not interlaced, which is
// what it writes) with Node's zlib, so tests can compare rendered map pixels with the legend's swatches.
import { inflateSync } from 'node:zlib'

export function decodePng(buffer) {
  let offset = 8
  let width = 0
  let height = 0
  let channels = 0
  const data = []
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset)
    const type = buffer.toString('latin1', offset + 4, offset + 8)
    const body = buffer.subarray(offset + 8, offset + 8 + length)
    if (type === 'IHDR') {
      width = body.readUInt32BE(0)
      height = body.readUInt32BE(4)
      const [depth, colorType, , , interlace] = body.subarray(8, 13)
      if (depth !== 8 || interlace !== 0 || (colorType !== 2 && colorType !== 6)) {
        throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}, interlace ${interlace}`)
      }
      channels = colorType === 6 ? 4 : 3
    } else if (type === 'IDAT') data.push(body)
    else if (type === 'IEND') break
    offset += 12 + length
  }
  const raw = inflateSync(Buffer.concat(data))
  const stride = width * channels
  const pixels = Buffer.alloc(height * stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const out = pixels.subarray(y * stride, (y + 1) * stride)
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride)
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0
      const b = prev[i]
      const c = i >= channels ? prev[i - channels] : 0
      let v = line[i]
      if (filter === 1) v += a
      else if (filter === 2) v += b
      else if (filter === 3) v += (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      }
      out[i] = v & 0xff
    }
  }
  return { width, height, channels, pixels }
}

/** [r, g, b] at device pixel (x, y). */
export function pixelAt(image, x, y) {
  const i = (Math.round(y) * image.width + Math.round(x)) * image.channels
  return [image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]]
}

/** The colour of a (2r+1)² block around a device pixel, and whether the block is one colour (within `tolerance`). */
export function blockAt(image, x, y, r = 3, tolerance = 2) {
  const centre = pixelAt(image, x, y)
  let uniform = true
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) {
      if (colourDistance(pixelAt(image, x + dx, y + dy), centre) > tolerance) uniform = false
    }
  }
  return { colour: centre, uniform }
}

/** The largest difference of one channel. */
export function colourDistance(a, b) {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])))
}

export function hex([r, g, b]) {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`
}
