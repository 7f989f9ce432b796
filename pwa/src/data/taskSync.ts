// The sender of tasks (排班) for the outbox: POST /tasks with the body stored when the leader saved the form.
import { createTask } from '@/api/tasks'
import { done, registerSender } from './outboxSenders'
import { KIND_TASK_CREATE, type TaskPayload } from './tasks'

registerSender(
  KIND_TASK_CREATE,
  async (item) => {
    await createTask((item.payload as TaskPayload).body) // 201 new, 200 the same client_id again: both mean stored
    return done()
  },
  () => ({ what: 'task', n: 1 }),
)
