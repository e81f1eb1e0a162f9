from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit import Action, AuditEvent, record, verify_chain

THREADS, EVENTS_EACH = 8, 25


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite test databases are in-memory with a shared cache, where writers fail instead of waiting",
)
def test_concurrent_writers_keep_one_valid_chain() -> None:
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(EVENTS_EACH):
                record(event_type="case.read", action=Action.READ, detail={"t": n, "i": i})
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    result = verify_chain()
    assert (result.ok, result.count) == (True, THREADS * EVENTS_EACH)
    prev_hashes = list(AuditEvent.objects.values_list("prev_hash", flat=True))
    assert len(set(prev_hashes)) == len(prev_hashes) == THREADS * EVENTS_EACH
