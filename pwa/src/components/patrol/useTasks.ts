// Today's tasks (排班) of the officer: GET /me/tasks, kept per user in IndexedDB so they show offline too.
import { reactive } from 'vue'
import { ApiError, OfflineError } from '@/api/http'
import { getMyTasks } from '@/api/patrols'
import type { PlannedTask as Task } from '@/api/tasks'
import { getKv, setKv } from '@/data/kv'
import { session } from '@/composables/useSession'

interface CachedTasks {
  date: string
  fetchedAt: number
  items: Task[]
}

export const tasks = reactive({
  items: [] as Task[],
  /** false when the server has no /me/tasks (404): the card is not shown at all */
  available: true,
  /** the list shown came from this device, not from the server just now */
  fromCache: false,
  loading: false,
})

/** Today in Asia/Shanghai as YYYY-MM-DD (the server's days are local days). */
export function todayLocal(now = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now)
}

const key = (userId: number) => `tasks:${userId}`

export function shiftOver(task: Task, now = Date.now()): boolean {
  return Date.parse(task.ends_at) <= now
}

/** Today's next task whose shift is not over: what the big start button starts, on the home and the patrol screen. */
export function nextTask(now = Date.now()): Task | null {
  return [...tasks.items].filter((x) => !shiftOver(x, now)).sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at))[0] ?? null
}

/** What starting a patrol from this task asks for: its grids, and recording stops at its shift's end. */
export function startRequestFor(task: Task): { taskId: number; gridIds: number[]; shiftEndsAt: number } {
  return { taskId: task.id, gridIds: task.grid_ids, shiftEndsAt: Date.parse(task.ends_at) }
}

export async function loadTasks(): Promise<void> {
  const userId = session.userId
  if (userId === null) return
  const date = todayLocal()
  tasks.loading = true
  try {
    const items = await getMyTasks(date)
    if (session.userId !== userId) return
    tasks.items = items
    tasks.available = true
    tasks.fromCache = false
    await setKv(key(userId), { date, fetchedAt: Date.now(), items } satisfies CachedTasks)
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) {
      tasks.available = false
      tasks.items = []
      return
    }
    if (!(err instanceof OfflineError) && !(err instanceof ApiError)) throw err
    const cached = await getKv<CachedTasks>(key(userId))
    tasks.items = cached.ok && cached.value?.date === date ? cached.value.items : []
    tasks.fromCache = true
  } finally {
    tasks.loading = false
  }
}
