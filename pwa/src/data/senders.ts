// Every feature's outbox senders, registered before the first drain (an item whose kind nobody registered is
// reported as one this app version cannot send).
import './patrolSync'
import './taskSync'
import './reports'
import './inspections'
