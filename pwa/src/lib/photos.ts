// A photo at the shutter: the SHA-256 of the camera file's exact bytes (what the server checks the original
// against), and a display copy made here (1920 px long edge, upright) so the first upload is small.
export const DISPLAY_LONG_EDGE_PX = 1920
const DISPLAY_QUALITY = 0.75

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  if (typeof crypto === 'undefined' || !crypto.subtle) {
    // only over plain http (not localhost): the deployment guide requires HTTPS
    throw new Error('crypto.subtle unavailable: serve the app over HTTPS')
  }
  const digest = await crypto.subtle.digest('SHA-256', bytes)
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

export function fittedSize(width: number, height: number, longEdge = DISPLAY_LONG_EDGE_PX): [number, number] {
  const scale = Math.min(1, longEdge / Math.max(width, height))
  return [Math.max(1, Math.round(width * scale)), Math.max(1, Math.round(height * scale))]
}

/**
 * The display copy as JPEG, turned as the photo's EXIF orientation says (createImageBitmap's default
 * `from-image`). null when this browser cannot decode the file (HEIC in Chrome): the server makes the copy from
 * the original instead.
 */
export async function displayCopy(file: Blob): Promise<Blob | null> {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' })
  } catch {
    return null
  }
  const [w, h] = fittedSize(bitmap.width, bitmap.height)
  const canvas = document.createElement('canvas')
  canvas.width = w
  canvas.height = h
  const ctx = canvas.getContext('2d')
  if (!ctx) return null
  ctx.imageSmoothingQuality = 'high'
  ctx.drawImage(bitmap, 0, 0, w, h)
  bitmap.close()
  const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', DISPLAY_QUALITY))
  canvas.width = canvas.height = 0 // give the memory back at once: phones hold few large canvases
  return blob
}
