// The browser's own view of this site's storage: ask it to keep our data (Safari may otherwise wipe it after 7
// days without a visit) and how much is used of what it allows.
export interface StorageFacts {
  /** null: the browser cannot say */
  persisted: boolean | null
  usageBytes: number | null
  quotaBytes: number | null
}

function manager(): StorageManager | undefined {
  return typeof navigator !== 'undefined' ? navigator.storage : undefined
}

/** Ask once at start; the answer is the browser's (Chrome decides by engagement, Safari asks nobody). */
export async function requestPersistence(): Promise<boolean | null> {
  const storage = manager()
  if (!storage || typeof storage.persist !== 'function') return null
  try {
    return (await storage.persisted?.()) || (await storage.persist())
  } catch (err) {
    console.warn('storage.persist', err)
    return null
  }
}

export async function storageFacts(): Promise<StorageFacts> {
  const storage = manager()
  const persisted = storage?.persisted ? await storage.persisted().catch(() => null) : null
  const est = storage?.estimate ? await storage.estimate().catch(() => null) : null
  return { persisted, usageBytes: est?.usage ?? null, quotaBytes: est?.quota ?? null }
}
