"""The sync engine: validate → claim → post to Fulfil (inventory lane) → tender batches (financial lane).

Modules:
- `money`     Fulfil's arithmetic (line amounts, per-line tax) so validation predicts what Fulfil computes.
- `resolve`   Memoised map look-ups for a run (one query per distinct store/SKU/tax, not per line).
- `raising`   Opening and closing exception occurrences in bulk, keeping group counters true.
- `validate`  Checks that turn `normalized` into `ready` or `blocked`; `transactions_requeue`.
- `claims`    Claiming work so any number of workers post each transaction once; backoff.
- `post`      The inventory lane: batched, idempotent sale posting with bisection of rejects.
- `tender`    The financial lane: daily tender batches as payment transactions.
"""
