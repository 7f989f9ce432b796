"""The case cycle: intake (report, duplicates), cycle (the moves), clock (time limits on working or natural
time), overdue (flags and escalation)."""
