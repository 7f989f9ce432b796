// Joint inspections (综合查一次) on the server: the officer's list, one inspection with its checklist, check-in,
// submission. Every write a phone may retry is idempotent there (the first check-in stands; a submission under the
// same client_id answers the stored one).
import { request } from './http'

export interface InspectionBusiness {
  id: number
  credit_code: string
  name: string
  address: string
  legal_rep: string
  lon: number
  lat: number
}

export interface TeamMember {
  id: number
  name: string
  unit: string
  certificate_no: string | null
  certificate_expires_on: string | null
  position: number
}

export interface CheckItem {
  code: string
  department_code: string
  name: string
  legal_basis: string
  method: string
  rectify_days: number
  case_category_code: string | null
}

export type ItemResultValue = 'pass' | 'fail' | 'na'

export interface StoredResult {
  item_code: string
  result: ItemResultValue
  note: string
  evidence_ids: number[]
  rectify_by: string | null
  case_id: number | null
}

export interface InspectionSummary {
  id: number
  plan_id: number | null
  kind: 'initial' | 'reinspection'
  parent_id: number | null
  status: 'assigned' | 'in_progress' | 'submitted' | 'cancelled'
  due_on: string
  business: InspectionBusiness
  scenario: string
  scenario_version: number
  departments: string[]
  item_count: number
  team: TeamMember[]
  checked_in_at: string | null
  check_in_distance_m: number | null
  check_in_flagged: boolean
  submitted_at: string | null
  notice_no: string | null
  failed: number
  public_code: string | null
}

export interface InspectionDetail extends InspectionSummary {
  items: CheckItem[]
  results: StoredResult[]
  signer_name: string | null
  reinspection_ids: number[]
}

export interface CheckInBody {
  lon: number
  lat: number
  accuracy_m: number | null
  at: string
}

export interface ResultBody {
  item_code: string
  result: ItemResultValue
  note: string
  evidence_client_ids: string[]
}

export interface SignaturePoint {
  x: number
  y: number
  /** milliseconds after the signature's started_at */
  t: number
}

export interface Signature {
  width: number
  height: number
  started_at: string
  strokes: SignaturePoint[][]
}

export interface SubmitBody {
  client_id: string
  results: ResultBody[]
  signature: Signature | null
  signer_name: string
  signed_at: string
  refused_to_sign: boolean
  refusal_note: string
}

/** Where I am on the team, soonest due first (cancelled ones left out here). */
export async function myInspections(): Promise<InspectionSummary[]> {
  const all = await request<InspectionSummary[]>('GET', '/api/v1/inspections', { query: { mine: 'true', page_size: 200 } })
  return all.filter((i) => i.status !== 'cancelled')
}

export function getInspection(id: number): Promise<InspectionDetail> {
  return request<InspectionDetail>('GET', `/api/v1/inspections/${id}`)
}

export function checkIn(id: number, body: CheckInBody): Promise<InspectionDetail> {
  return request<InspectionDetail>('POST', `/api/v1/inspections/${id}/check-in`, { body })
}

export function submitInspection(id: number, body: SubmitBody): Promise<InspectionDetail> {
  return request<InspectionDetail>('POST', `/api/v1/inspections/${id}/submit`, { body })
}
