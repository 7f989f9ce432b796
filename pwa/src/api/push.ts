// Web Push subscriptions and the notifications list (/api/v1/push, /api/v1/notifications).
import { request } from './http'

export interface PushSubscriptionRow {
  id: number
  endpoint: string
  created_at: string
  last_sent_at: string | null
}

export function pushKey(): Promise<{ application_server_key: string }> {
  return request('GET', '/api/v1/push/key')
}

export function savePushSubscription(sub: PushSubscriptionJSON): Promise<PushSubscriptionRow> {
  return request('POST', '/api/v1/push/subscriptions', {
    body: { endpoint: sub.endpoint, keys: sub.keys, user_agent: navigator.userAgent.slice(0, 200) },
  })
}

export function deletePushSubscription(id: number): Promise<void> {
  return request('DELETE', `/api/v1/push/subscriptions/${id}`)
}

export interface NotificationItem {
  id: number
  kind: string
  case_id: number | null
  text: string
  url: string
  created_at: string
  read_at: string | null
}

export function myNotifications(): Promise<{ unread: number; items: NotificationItem[] }> {
  return request('GET', '/api/v1/notifications')
}

export function markNotificationsRead(upToId: number): Promise<{ marked: number }> {
  return request('POST', '/api/v1/notifications/read', { body: { up_to_id: upToId } })
}
