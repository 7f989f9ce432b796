// /api/v1/areas: GeoJSON areas scoped to the caller, fetched page by page (X-Pagination header).
import { request, requestRaw } from './http'
import type { AreaCollection, AreaFeature, AreaKind, Pagination } from './types'

export const PAGE_SIZE_MAX = 1000

export interface AreaQuery {
  kind?: AreaKind
  parent?: number
}

function parsePagination(headers: Headers): Pagination | null {
  const raw = headers.get('X-Pagination')
  if (!raw) return null
  try {
    return JSON.parse(raw) as Pagination
  } catch {
    return null
  }
}

export async function listAreaPage(query: AreaQuery, page: number, pageSize = PAGE_SIZE_MAX) {
  const { data, headers } = await requestRaw<AreaCollection>('GET', '/api/v1/areas', {
    query: { kind: query.kind, parent: query.parent, page, page_size: pageSize },
  })
  return { features: data?.features ?? [], pagination: parsePagination(headers) }
}

/** All pages of one query; follows next_page until the server has none (no header = one page). */
export async function listAllAreas(query: AreaQuery = {}, pageSize = PAGE_SIZE_MAX): Promise<AreaFeature[]> {
  const out: AreaFeature[] = []
  let page: number | undefined = 1
  for (let guard = 0; page !== undefined && guard < 10_000; guard++) {
    const { features, pagination } = await listAreaPage(query, page, pageSize)
    out.push(...features)
    if (!pagination) break
    page = pagination.next_page ?? (pagination.page < pagination.total_pages ? pagination.page + 1 : undefined)
  }
  return out
}

export function getArea(id: number): Promise<AreaFeature> {
  return request<AreaFeature>('GET', `/api/v1/areas/${id}`)
}
