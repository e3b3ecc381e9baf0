"""The outgoing register of certificates (C-02): one sequence per year, numbers never repeat."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from engine.db import session_scope
from engine.models import RegisterCounter
from engine.services import documents

WORKERS = 8
EACH = 5


def _take(session_factory, year: int) -> str:
    with session_scope(session_factory) as s:
        return documents.next_register_number(s, documents.CERTIFICATES, year)


def test_numbers_count_up_per_year_and_start_again_in_a_new_year(session_factory):
    assert [_take(session_factory, 2025) for _ in range(3)] == [
        "СПР-2025-00001",
        "СПР-2025-00002",
        "СПР-2025-00003",
    ]
    assert _take(session_factory, 2026) == "СПР-2026-00001"
    assert _take(session_factory, 2025) == "СПР-2025-00004"


def test_a_rolled_back_request_gives_its_number_back(session_factory):
    assert _take(session_factory, 2025) == "СПР-2025-00001"
    s = session_factory()
    try:
        assert documents.next_register_number(s, documents.CERTIFICATES, 2025) == "СПР-2025-00002"
        s.rollback()
    finally:
        s.close()
    assert _take(session_factory, 2025) == "СПР-2025-00002"


def test_simultaneous_requests_never_share_a_number(session_factory):
    barrier = threading.Barrier(WORKERS)

    def worker(_index: int) -> list[str]:
        barrier.wait(timeout=60)
        return [_take(session_factory, 2027) for _ in range(EACH)]

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        taken = [number for numbers in pool.map(worker, range(WORKERS)) for number in numbers]

    assert len(taken) == WORKERS * EACH
    assert sorted(taken) == [f"СПР-2027-{n:05d}" for n in range(1, WORKERS * EACH + 1)]
    with session_scope(session_factory) as s:
        counter = s.scalar(select(RegisterCounter).where(RegisterCounter.year == 2027))
        assert counter.last_number == WORKERS * EACH
