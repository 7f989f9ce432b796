// Cases and their evidence on the server (POST /evidence is multipart; everything else JSON).
import { request } from './http'

export interface CaseCategory {
  code: string
  name: string
  field: string
  whistleable: boolean
  default_department_code?: string | null
  respond_minutes: number
  handle_minutes: number
  clock: 'natural' | 'working'
}

export interface NearbyCase {
  id: number
  status: string
  distance_m: number
  reported_at: string
  description: string
  photo_url: string | null
}

export interface NewCase {
  client_id: string
  category: string
  lon: number
  lat: number
  accuracy_m: number | null
  description: string
  evidence_client_ids: string[]
  reported_at: string
}

export interface EvidenceDeclaration {
  client_id: string
  captured_at: string
  sha256: string
  lon: number | null
  lat: number | null
  accuracy_m: number | null
}

export function listCategories(): Promise<CaseCategory[]> {
  return request<CaseCategory[]>('GET', '/api/v1/case-categories')
}

export function nearbyCases(category: string, lon: number, lat: number): Promise<NearbyCase[]> {
  return request<NearbyCase[]>('GET', '/api/v1/cases/nearby', { query: { category, lon, lat } })
}

/** 201 new, 200 a retry under the same client_id: both mean the server has it. */
export function reportCase(body: NewCase): Promise<{ id: number }> {
  return request<{ id: number }>('POST', '/api/v1/cases', { body })
}

/** One file of an evidence record (declared by the same call when new). `expected`: the files still to follow. */
export function sendEvidenceFile(
  d: EvidenceDeclaration,
  role: 'original' | 'display',
  file: Blob,
  expected: ('original' | 'display')[],
): Promise<{ id: number }> {
  const form = new FormData()
  form.set('client_id', d.client_id)
  form.set('captured_at', d.captured_at)
  form.set('sha256', d.sha256)
  if (d.lon !== null && d.lat !== null) {
    form.set('lon', String(d.lon))
    form.set('lat', String(d.lat))
  }
  if (d.accuracy_m !== null) form.set('accuracy_m', String(d.accuracy_m))
  form.set('role', role)
  for (const e of expected) form.append('expected', e)
  form.set('file', file, role === 'original' ? 'original' : 'display.jpg')
  return request<{ id: number }>('POST', '/api/v1/evidence', { form })
}

export interface InboxItem {
  case_id: number
  need: 'acknowledge' | 'handle' | 'accept' | 'dispatch' | 'approve' | 'close' | 'verify'
  status: string
  category: string
  description: string
  reported_at: string
  due_at: string | null
  overdue: string[]
  due_soon: boolean
}

export interface CaseAction {
  id: number
  action: string
  actor_name: string | null
  at: string
  to_status: string
  note: string
  data: Record<string, unknown>
  evidence_ids: number[]
}

export interface CaseSummary {
  id: number
  status: string
  category: { code: string; name: string }
  description: string
  reported_at: string
  handle_due_at: string | null
  overdue: string[]
  reported_by_id: number | null
  assignee_id: number | null
}

/** A photo's C2PA content credentials, checked by the server when the original arrived. `valid`: signature and
 *  hashes hold (unchanged since signing); who signed is checked only against a configured trust list (`trust`). */
export interface ContentCredentials {
  state: 'valid' | 'invalid' | 'unverified'
  trust: 'not_checked' | 'trusted' | 'untrusted'
  claim_generator: string | null
  signer: { common_name: string | null; organization: string | null } | null
  signed_at: string | null
  errors: { code: string; explanation: string | null }[]
}

export interface CaseDetail extends CaseSummary {
  lon: number
  lat: number
  timeline: CaseAction[]
  evidence: { evidence_id: number; stage: 'before' | 'after' | 'verify'; thumbnail_url: string; display_url: string;
              watermark_url: string; content_credentials: ContentCredentials | null }[]
  close_conditions: string
  squad_id: number | null
  /** an exception (extend, return, park) a handler asked for, waiting for a leader */
  pending: { action: string; reason?: string } | null
}

export interface ActionBody {
  action: string
  client_id: string
  note?: string
  passed?: boolean
  approve?: boolean
  assignee_id?: number
  lon?: number
  lat?: number
  accuracy_m?: number
  evidence_client_ids?: string[]
}

/** A matter on the whistle list (吹哨事项): the county department it calls, and the time it has to report in. */
export interface WhistleMatter {
  code: string
  name: string
  field: string
  department_code: string
  report_in_minutes: number
  clock: 'natural' | 'working'
}

export function listWhistleMatters(): Promise<WhistleMatter[]> {
  return request<WhistleMatter[]>('GET', '/api/v1/whistle-matters')
}

/** The category's own department first (its usual matters), then the rest, each group by name. */
export function orderWhistleMatters(all: WhistleMatter[], departmentCode: string | null | undefined,
                                    text = ''): WhistleMatter[] {
  const q = text.trim()
  return all
    .filter((m) => !q || m.name.includes(q) || m.field.includes(q) || m.code.toLowerCase().includes(q.toLowerCase()))
    .sort((a, b) => Number(b.department_code === departmentCode) - Number(a.department_code === departmentCode) ||
      a.name.localeCompare(b.name, 'zh-CN'))
}

export function getInbox(): Promise<InboxItem[]> {
  return request<InboxItem[]>('GET', '/api/v1/inbox')
}

export function myCases(): Promise<CaseSummary[]> {
  return request<CaseSummary[]>('GET', '/api/v1/cases', { query: { mine: 'true', page_size: 100 } })
}

export function getCase(id: number): Promise<CaseDetail> {
  return request<CaseDetail>('GET', `/api/v1/cases/${id}`)
}

export function postAction(caseId: number, body: ActionBody): Promise<CaseAction> {
  return request<CaseAction>('POST', `/api/v1/cases/${caseId}/actions`, { body })
}

/** Filters of GET /cases/map (the list's filters, and the map's box in WGS-84 degrees). */
export interface CaseMapQuery {
  open?: boolean
  overdue?: boolean
  category?: string
  source?: string
  /** min_lon,min_lat,max_lon,max_lat */
  bbox?: [number, number, number, number]
}

export interface CaseMapFeature {
  type: 'Feature'
  id: number
  geometry: { type: 'Point'; coordinates: [number, number] }
  properties: { status: string; category: string; reported_at: string; overdue: string[]; squad_id: number | null }
}

export interface CaseMapCollection {
  type: 'FeatureCollection'
  features: CaseMapFeature[]
  /** more cases matched than the server sends (5,000, newest first) */
  truncated: boolean
}

export function caseMap(q: CaseMapQuery, signal?: AbortSignal): Promise<CaseMapCollection> {
  const query: Record<string, string | undefined> = {
    open: q.open === undefined ? undefined : String(q.open),
    overdue: q.overdue === undefined ? undefined : String(q.overdue),
    category: q.category,
    source: q.source,
    bbox: q.bbox?.map((v) => v.toFixed(6)).join(','),
  }
  return request<CaseMapCollection>('GET', '/api/v1/cases/map', { query, signal })
}
