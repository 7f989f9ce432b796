// Precompresses the build: next to every text asset of dist/ (JS, CSS, HTML, SVG, JSON, web manifest) a .br and
// a .gz, written with Node's own zlib at the highest levels, so the server sends them with Content-Encoding
// without compressing anything per request (backend/web.py; nginx gzip_static / brotli_static likewise).
//
//   node scripts/compress.mjs [dist]
import { readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'

const TEXT = /\.(js|mjs|css|html|svg|json|webmanifest|txt|map)$/
// below this, the headers of a compressed answer cost about what compression saves
const MIN_BYTES = 1024

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : [path]
  })
}

export function compressDist(dist) {
  let plain = 0
  let brotli = 0
  let count = 0
  // variants from an earlier run: their source may have changed or be gone
  for (const path of files(dist)) if (/\.(br|gz)$/.test(path)) unlinkSync(path)
  for (const path of files(dist)) {
    if (!TEXT.test(path)) continue
    const data = readFileSync(path)
    if (data.length < MIN_BYTES) continue
    const br = brotliCompressSync(data, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
      },
    })
    const gz = gzipSync(data, { level: constants.Z_BEST_COMPRESSION })
    // a variant that is not smaller is not written: the server then sends the file as it is
    if (br.length < data.length) writeFileSync(`${path}.br`, br)
    if (gz.length < data.length) writeFileSync(`${path}.gz`, gz)
    plain += data.length
    brotli += Math.min(br.length, data.length)
    count += 1
  }
  return { count, plain, brotli }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dist = process.argv[2] ?? 'dist'
  const { count, plain, brotli } = compressDist(dist)
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`
  console.log(`precompressed ${count} files in ${relative(process.cwd(), dist) || dist}: ${kib(plain)} -> ${kib(brotli)} (brotli)`)
}
