// The last case map a user loaded, kept per user in kv (`caseMapSnapshot:<userId>`): offline, the case map shows it
// with the time it was loaded and the filters it was loaded with.
import type { CaseMapCollection } from '@/api/cases'
import type { Result } from '@/data/db'
import { getKv, setKv } from '@/data/kv'
import type { Bbox } from '@/lib/tiles'
import type { CaseMapFilter } from './caseMap'

export interface CaseMapSnapshot {
  fetchedAt: number
  filter: CaseMapFilter
  /** the box asked for (WGS-84) */
  bbox: Bbox
  collection: CaseMapCollection
}

const key = (userId: number) => `caseMapSnapshot:${userId}`

export function loadCaseMapSnapshot(userId: number): Promise<Result<CaseMapSnapshot | undefined>> {
  return getKv<CaseMapSnapshot>(key(userId))
}

export function saveCaseMapSnapshot(userId: number, snapshot: CaseMapSnapshot): Promise<Result<void>> {
  // plain copies: IndexedDB cannot clone Vue's proxies
  return setKv(key(userId), { ...snapshot, filter: { ...snapshot.filter }, bbox: [...snapshot.bbox] })
}
