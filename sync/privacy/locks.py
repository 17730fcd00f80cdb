"""The lock between an erasure and the sync's writes of one environment (PostgreSQL).

A sync batch reads the tombstones and merges its calls under a shared transaction-level
advisory lock; an erasure rewrites the environment's calls under the exclusive one. So a
batch that read the tombstones before an erasure committed its tombstone has committed its
rows before the erasure reads them (and they are erased), and a batch that starts later reads
the tombstone (and anonymises on arrival): no call slips between the two.

The erasure only *tries* the lock, in a loop: waiting in PostgreSQL's queue could deadlock
with the sync's two writer threads (a later batch holding the shared lock waits, in Python,
for an earlier one that would queue behind the erasure).
"""
from __future__ import annotations

import time

from django.db import connection

# The advisory lock's class (first key); the environment id is the second.
LOCK_CLASS = 0x5B39
WAIT_STEP_SECONDS = 0.05


class LockTimeout(RuntimeError):
    pass


def _key(environment_id: int) -> tuple[int, int]:
    return LOCK_CLASS, environment_id % (2 ** 31)


def hold_shared(environment_id: int) -> None:
    """Inside a sync batch's transaction: wait while an erasure of the environment runs."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock_shared(%s, %s)", _key(environment_id))


def hold_exclusive(environment_id: int, timeout: float = 600.0) -> None:
    """Inside an erasure's transaction: the environment's sync writes wait until it commits.
    Raises LockTimeout after `timeout` seconds of batches in flight."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", _key(environment_id))
            if cursor.fetchone()[0]:
                return
            if time.monotonic() > deadline:
                raise LockTimeout("the environment's sync kept writing; try again")
            time.sleep(WAIT_STEP_SECONDS)
