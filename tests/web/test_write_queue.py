"""SQLite writers in one process queue in arrival order on the file's WriteQueue (a burst of clicks loses none)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from mailbot.store import Store, WriteQueue
from mailbot.store.models import Member


def wait_for(condition: object, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_waiters_get_the_lock_first_come_first_served() -> None:
    q = WriteQueue()
    order: list[int] = []
    q.acquire()
    threads = []
    for i in range(6):
        def take(i: int = i) -> None:
            with q:
                order.append(i)
        t = threading.Thread(target=take)
        t.start()
        wait_for(lambda i=i: len(q._waiters) == i + 1)
        threads.append(t)
    q.release()
    for t in threads:
        t.join(5)
    assert order == list(range(6))


def test_the_holder_may_take_it_again() -> None:
    q = WriteQueue()
    with q, q:
        pass
    with q:  # released fully: another thread gets it at once
        got = []
        t = threading.Thread(target=lambda: got.append(1))
        t.start()
        t.join(5)
    t = threading.Thread(target=lambda: (q.acquire(), got.append(2), q.release()))
    t.start()
    t.join(5)
    assert got == [1, 2]


def test_stores_on_one_file_share_its_queue(tmp_path: Path) -> None:
    a, b = Store(f"sqlite:///{tmp_path / 'x.sqlite3'}"), Store(f"sqlite:///{tmp_path / 'x.sqlite3'}")
    other = Store(f"sqlite:///{tmp_path / 'y.sqlite3'}")
    assert a._queue is b._queue and a._queue is not other._queue
    for s in (a, b, other):
        s.dispose()


def test_a_burst_of_writers_all_succeed(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'burst.sqlite3'}")
    store.upgrade()
    now = datetime.now(UTC)

    def write(i: int) -> None:
        with store.transaction() as s:
            s.execute(insert(Member).values(email=f"m{i}@example.no", language="nb", status="active",
                                            joined_at=now, changed_at=now))

    with ThreadPoolExecutor(40) as pool:
        list(pool.map(write, range(400)))
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Member)) == 400
    store.dispose()
