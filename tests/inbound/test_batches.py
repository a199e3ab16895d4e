"""Replies are settled in batches: one transaction per batch, a savepoint per message (issue 12).

One message that fails never spoils the others of its batch, a batch that cannot be committed leaves
nothing half done, and a reader killed (-9) in the middle of a batch loses nothing and counts nothing
twice: its uncommitted batch is read again by the next reader.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from mailbot import replies
from mailbot.states import InboundState
from mailbot.store import Store, answer_counts
from mailbot.store import members as member_store
from mailbot.store import responses as response_store
from mailbot.store.models import Inbound, Outbox, Response
from tests.conftest import oslo
from tests.factories import Row
from tests.inbound.conftest import ASTRID, KARI, OLE, Panel, make_panel, reply

WHEN = oslo(2022, 12, 2, 10)


def _counts_match_the_answers(panel: Panel) -> None:
    with panel.bot.store.transaction() as s:
        assert answer_counts.read(s, panel.survey.id) == answer_counts.from_answers(s, panel.survey.id)


def _statuses(panel: Panel) -> Counter[str]:
    with panel.bot.store.transaction() as s:
        return Counter(s.scalars(select(Inbound.status)))


def test_one_failing_message_is_rolled_back_alone_and_the_rest_of_its_batch_stands(
        panel: Panel, monkeypatch: pytest.MonkeyPatch):
    real = response_store.record
    ole = panel.member(OLE).id

    def record(session: Any, survey: Any, member_id: int, *args: Any, **kw: Any) -> int:
        response_id = real(session, survey, member_id, *args, **kw)
        if member_id == ole:  # after its answers and counts were written: the savepoint must undo them
            raise RuntimeError("the disk said no")
        return response_id

    monkeypatch.setattr(response_store, "record", record)
    ids = [panel.deliver(reply(panel.invitation(a), a, "1 A\n2 Møbler\n3 4"), WHEN) for a in (KARI, OLE, ASTRID)]
    report = panel.read(WHEN)

    assert report.answered == 2 and report.needs_human == 1
    assert panel.answers(KARI) and panel.answers(ASTRID)
    assert panel.answers(OLE) == {}
    ole_row = panel.inbound(ids[1])
    assert ole_row.status == InboundState.NEEDS_HUMAN.value
    assert "the disk said no" in (ole_row.reason or "")
    assert [q.member_id for q in panel.answers_queued()] == [panel.member(KARI).id, panel.member(ASTRID).id]
    _counts_match_the_answers(panel)


def test_a_batch_that_cannot_be_committed_is_read_again_one_message_at_a_time(
        panel: Panel, monkeypatch: pytest.MonkeyPatch):
    real = answer_counts.Pending.flush
    failed: list[int] = []

    def flush(self: answer_counts.Pending, session: Any) -> None:
        if not failed and self.values:  # the batch's one write of its counts, once
            failed.append(1)
            raise RuntimeError("connection reset")
        real(self, session)

    monkeypatch.setattr(answer_counts.Pending, "flush", flush)
    for a in (KARI, OLE, ASTRID):
        panel.deliver(reply(panel.invitation(a), a, "1 A\n2 Møbler\n3 4"), WHEN)
    report = panel.read(WHEN)

    assert failed
    assert report.answered == 3 and report.needs_human == 0  # counted once, after the reading that stood
    assert _statuses(panel)[InboundState.DONE.value] == 3
    assert len(panel.answers_queued()) == 3
    _counts_match_the_answers(panel)


def test_a_batch_ends_at_its_size_and_every_message_is_settled(panel: Panel, monkeypatch: pytest.MonkeyPatch):
    batches: list[int] = []
    real = replies._read_batch

    def read_batch(*args: Any) -> int:
        taken = real(*args)
        batches.append(taken)
        return taken

    monkeypatch.setattr(replies, "_read_batch", read_batch)
    for a in (KARI, OLE, ASTRID, KARI, OLE):
        panel.deliver(reply(panel.invitation(a), a, "1 A\n3 4"), WHEN)
    replies.read_inbound(panel.bot.settings, panel.bot.store, panel.bot.keys, panel.bot.by_id, WHEN, batch=2,
                         batch_seconds=60)

    assert batches == [2, 2, 1]
    assert _statuses(panel) == {InboundState.DONE.value: 5}
    _counts_match_the_answers(panel)


# ---------------------------------------------------------------- kill -9


RESIDENTS = 120


def _burst_panel(tmp_path: Path, store: Store) -> tuple[Panel, list[str]]:
    panel = make_panel(tmp_path, store, extra_config="[replies]\nmax_auto_answers_per_day = 1000\n")
    residents = [f"beboer{i}@example.no" for i in range(RESIDENTS)]
    with store.transaction() as s:
        member_store.upsert_members(s, [Row(a, f"Beboer {i}") for i, a in enumerate(residents)], oslo(2022, 11, 1))
    panel.invite()
    for i, a in enumerate(residents):
        panel.deliver(reply(panel.invitation(a), a, f"1 {'ABC'[i % 3]}\n2 Møbler, Klær\n3 {1 + i % 5}"), WHEN)
    # A second reply from some: the newest answers replace the first, counted once.
    for i, a in enumerate(residents[:30]):
        panel.deliver(reply(panel.invitation(a), a, f"1 {'ABC'[(i + 1) % 3]}\n3 {1 + (i + 2) % 5}"), WHEN)
    return panel, residents


def _read_and_die(panel: Panel, after_claims: int) -> None:
    """In a forked child: read, and kill -9 this process inside a batch, after `after_claims` messages."""
    panel.bot.store.engine.dispose(close=False)  # the parent's connections are not ours to use
    claimed = [0]
    real = replies.inbound_store.claim_new

    def claim_new(session: Any, inbound_id: int) -> Any:
        claimed[0] += 1
        if claimed[0] > after_claims:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(session, inbound_id)

    replies.inbound_store.claim_new = claim_new  # type: ignore[assignment]
    bot = panel.bot
    replies.read_inbound(bot.settings, bot.store, bot.keys, bot.by_id, WHEN, batch_seconds=60)
    os._exit(3)  # not reached: the kill comes first


@pytest.mark.parametrize("after_claims", [1, 77])
def test_a_reader_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
        tmp_path: Path, store: Store, after_claims: int):
    panel, residents = _burst_panel(tmp_path, store)
    child = multiprocessing.get_context("fork").Process(target=_read_and_die, args=(panel, after_claims))
    child.start()
    child.join(120)
    assert child.exitcode == -signal.SIGKILL
    settled_by_the_dead = sum(n for state, n in _statuses(panel).items() if state != InboundState.NEW.value)
    assert settled_by_the_dead == (after_claims // replies.BATCH) * replies.BATCH  # whole batches only

    panel.read(WHEN)  # the next reader (a restart)

    statuses = _statuses(panel)
    assert statuses[InboundState.NEW.value] == 0
    assert sum(statuses.values()) == RESIDENTS + 30
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == RESIDENTS
        answers = Counter(s.scalars(select(Outbox.step).where(
            Outbox.step.like("receipt-%") | Outbox.step.like("notice-read-back-%"))))
    assert set(answers.values()) == {1} and len(answers) == RESIDENTS + 30  # one receipt or read-back each
    _counts_match_the_answers(panel)
    assert panel.answers(residents[0])["need"] == "Nei"  # the newer reply of the two won


# ---------------------------------------------------------------- several readers


def _read_in_child(panel: Panel) -> None:
    panel.bot.store.engine.dispose(close=False)
    bot = panel.bot
    replies.read_inbound(bot.settings, bot.store, bot.keys, bot.by_id, WHEN, batch=5)
    os._exit(0)


def test_four_reader_processes_at_once_act_on_each_message_once(tmp_path: Path, store: Store):
    """On PostgreSQL they claim messages FOR UPDATE SKIP LOCKED; on SQLite they take turns at the write lock."""
    panel, _ = _burst_panel(tmp_path, store)
    fork = multiprocessing.get_context("fork")
    readers = [fork.Process(target=_read_in_child, args=(panel,)) for _ in range(4)]
    for r in readers:
        r.start()
    for r in readers:
        r.join(180)
    assert [r.exitcode for r in readers] == [0, 0, 0, 0]

    statuses = _statuses(panel)
    assert statuses == {InboundState.DONE.value: RESIDENTS + 30}
    with store.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Response)) == RESIDENTS
        answers = Counter(s.scalars(select(Outbox.step).where(
            Outbox.step.like("receipt-%") | Outbox.step.like("notice-read-back-%"))))
    assert set(answers.values()) == {1} and len(answers) == RESIDENTS + 30
    _counts_match_the_answers(panel)
