"""One attempt mechanism for every call to the outside world (ARCHITECTURE.md rule 12): a WMS
dispatch, a webhook delivery, a customer notification, a PSP capture; the CRM and carriers
next.

Design, and why:

- **One table of attempts** (`Attempt`: kind, target id, status, tries, next attempt, last
  error) and **one table of tries** (`AttemptTry`: every call made, its answer and duration),
  rather than the same columns mixed into the four domain tables. The domain rows keep only
  what the business means (a fulfilment order is pushed, held or polled; a capture succeeded
  or failed; a notification holds its message), the protocol lives in one place, and the
  cockpit shows every outbound call in one list with one retry action. The migration that
  moved the four onto it copies rows into the new tables in batches and then drops columns:
  no table is rewritten, every table stays writable (dropping a column only changes the
  catalogue).
- **The status is a django-fsm-2 state machine** (`protected=True`):
  ``pending → in_flight → succeeded | pending (retry at next_attempt_at) | dead``, ``in_flight
  → pending`` when the sweep finds the lease over, ``pending | in_flight → cancelled`` when
  there is nothing to send any more, ``dead → pending`` by hand from the admin. Only
  `services` changes it, the row locked.
- **Claim with a lease, call without a transaction, record** (see `services`): a duplicate
  task does nothing (``SKIP LOCKED`` plus the number of tries it was queued with), a killed
  worker's attempt is swept after its lease, and no lock is held during the call.
- **Backoff**: ``base * 2^(tries-1)``, capped, times a random factor in [0.5, 1]
  (`oms.core.backoff`). Jitter spreads retries of calls that failed together; the lower
  bound of one half keeps the backoff growing from one try to the next (full jitter could
  retry a failing system at once).
- **Timers in the database** (rule 8): `next_attempt_at` is when a pending attempt may be
  queued again and when an in-flight one's lease ends; one beat task
  (`oms.core.tasks.requeue_due_attempts`) sweeps all kinds through one partial index.
- **Kinds register into this layer** (`kinds.AttemptKind`, filled from each app's
  `AppConfig.ready`): this layer never imports the apps above it (rule 1). A kind says how to
  build the call, make it, what success and a dead letter do to the domain, its settings
  (max tries, backoff base, lease) and which Celery task runs it — one task per kind, so that
  dispatches keep their own queue and notifications keep being sent in batches.
- Side effects leave after the commit: tasks are queued with `transaction.on_commit`, the
  kinds' events through the outbox.
"""
