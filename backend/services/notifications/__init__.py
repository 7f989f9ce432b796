"""Notifications: who is told what when a case moves (recipients.py, messages.py), written with the move
(outbox.py), and delivered afterwards over Web Push and a work-notice channel, with retries (deliver.py)."""
