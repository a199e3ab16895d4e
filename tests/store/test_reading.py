"""`Store.reading()`: long reads (reports) hold up no writer and see one snapshot (issue 12)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.store import Store
from mailbot.store.models import Member
from tests.factories import create_member


def _members(s: Session) -> int:
    return int(s.scalar(select(func.count()).select_from(Member)) or 0)


def test_a_writer_commits_while_a_reading_session_is_open_and_the_reader_keeps_its_snapshot(store: Store):
    with store.transaction() as s:
        create_member(s, "kari@example.no")
    done = threading.Event()

    def write() -> None:
        with store.transaction() as s:
            create_member(s, "ole@example.no")
        done.set()

    with store.reading() as r:
        assert _members(r) == 1
        writer = threading.Thread(target=write)
        writer.start()
        # On SQLite a transaction() here would wait for this one's write lock: reading() takes none.
        assert done.wait(20), "the writer waited for the reader"
        assert _members(r) == 1  # one snapshot for the whole report
    writer.join()
    with store.reading() as r:
        assert _members(r) == 2


def test_what_a_reading_session_writes_is_not_kept(store: Store):
    with store.reading() as r:
        create_member(r, "kari@example.no")
        r.flush()
    with store.transaction() as s:
        assert _members(s) == 0
