// Tasks saved on this device and not yet on the server (the outbox's `task.create` items), kept up to date
// after every drain; the planning page lists them until they are sent.
import { onBeforeUnmount, ref } from 'vue'
import type { NewTask } from '@/api/tasks'
import { onDrained } from '@/data/outboxDrain'
import { KIND_TASK_CREATE, pendingTasks, queueTask, type PendingTask } from '@/data/tasks'
import { session } from '@/composables/useSession'
import { notifyError } from '@/composables/useNotify'

export function usePendingTasks(onSent: () => void) {
  const items = ref<PendingTask[]>([])

  async function refresh() {
    const userId = session.userId
    if (userId === null) return
    const r = await pendingTasks(userId)
    if (r.ok) items.value = r.value
    else notifyError(r.error)
  }

  /** Saved here first (works offline); the outbox sends it. False when storage failed (already shown). */
  async function save(body: NewTask): Promise<boolean> {
    const userId = session.userId
    if (userId === null) return false
    const r = await queueTask(userId, body)
    if (!r.ok) {
      notifyError(r.error)
      return false
    }
    await refresh()
    return true
  }

  const off = onDrained((report, userId) => {
    if (userId !== session.userId) return
    void refresh()
    if (report.sentKinds[KIND_TASK_CREATE]) onSent()
  })
  onBeforeUnmount(off)
  void refresh()
  return { items, save, refresh }
}
