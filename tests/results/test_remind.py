"""`mailbot remind CAMPAIGN --underrepresented`: exactly the non-responders of under-represented groups.

The seeded survey (tests/results/seed.py): twenty invited, i = 0..11 answered.
Women are even i, men odd i; population 3 women to 1 man. Sandvika i < 10,
Bekkestua 10..16, no district 17..19. Worked out by hand:

- women: 6 of 12 respondents = 50 % against 75 % (below 75 % x 0.8 = 60 %): under;
  their non-responders are i = 12, 14, 16, 18;
- Bekkestua (no population figure: against those invited): 2 of 12 respondents
  = 16.7 % against 7/17 x 0.8 = 32.9 %: under; non-responders i = 12..16;
- age bands: 3 of 5 answered in each of the four bands: none under.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from typer.testing import CliRunner

from mailbot import compose, membership
from mailbot.cli import app
from mailbot.panel.settings import Settings, load_settings
from mailbot.report.population import Population
from mailbot.report.reminders import GroupCount, plan_extra_reminder, queue_extra_reminder
from mailbot.store import Store
from mailbot.store import outbox as outbox_store
from mailbot.store.models import CampaignStep, Member, Outbox
from tests.compose import make
from tests.conftest import ROOT, make_survey, write_panel
from tests.results.seed import seed

WOMEN_3_TO_1 = Population(gender={"Kvinne": 3, "Mann": 1})
NOW = datetime(2022, 12, 6, 12, tzinfo=UTC)
runner = CliRunner()


def test_the_plan_names_exactly_the_non_responders_of_under_represented_groups(store: Store,
                                                                               settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        ids = seed(s, survey)
        women = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1, dimensions=["gender"])
        both = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1)
    assert women.step == "reminder-extra-1"
    assert women.member_ids == tuple(ids[i] for i in (12, 14, 16, 18))
    assert women.groups == (GroupCount("gender", "Kvinne", 4),)
    assert both.member_ids == tuple(ids[i] for i in (12, 13, 14, 15, 16, 18))
    assert both.groups == (GroupCount("gender", "Kvinne", 4), GroupCount("district", "Bekkestua", 5))


def test_unsubscribed_paused_and_erased_members_are_never_mailed(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        ids = seed(s, survey)
        s.execute(update(Member).where(Member.id == ids[12]).values(status="unsubscribed"))
        membership.erase(s, ids[14], NOW, actor="test")
        plan = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1, dimensions=["gender"])
        assert plan.member_ids == (ids[16], ids[18])  # only active members are chosen
        assert queue_extra_reminder(s, survey, plan, NOW) == 2
        # Someone who leaves between queueing and sending is skipped at send time.
        s.execute(update(Member).where(Member.id == ids[16]).values(status="unsubscribed"))
        claimed = outbox_store.claim(s, NOW, 100)
        assert [(c.step, c.recipient.member_id) for c in claimed] == [("reminder-extra-1", ids[18])]
        skipped = s.execute(select(Outbox.member_id, Outbox.status, Outbox.smtp_response)
                            .where(Outbox.step == "reminder-extra-1", Outbox.member_id == ids[16])).one()
        assert tuple(skipped) == (ids[16], "skipped", "member unsubscribed")


def test_a_second_run_reminds_nobody_twice_unless_asked(store: Store, settings: Settings) -> None:
    survey = make_survey()
    with store.transaction() as s:
        ids = seed(s, survey)
        first = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1, dimensions=["gender"])
        assert queue_extra_reminder(s, survey, first, NOW) == 4
        second = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1)
        # The women had theirs; Bekkestua's men (i = 13, 15) had none.
        assert (second.step, second.member_ids, second.already_reminded) == (
            "reminder-extra-2", (ids[13], ids[15]), 4)
        assert second.groups == (GroupCount("gender", "Kvinne", 0), GroupCount("district", "Bekkestua", 2))
        assert queue_extra_reminder(s, survey, second, NOW + timedelta(hours=1)) == 2
        third = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1)
        assert third.member_ids == () and queue_extra_reminder(s, survey, third, NOW) == 0
        again = plan_extra_reminder(s, survey, settings, WOMEN_3_TO_1, again=True)
        assert again.step == "reminder-extra-3" and len(again.member_ids) == 6
        steps = dict(s.execute(select(CampaignStep.step, CampaignStep.recipients)
                               .where(CampaignStep.step.like("reminder-extra-%"))).all())
    assert steps == {"reminder-extra-1": 4, "reminder-extra-2": 2}


def test_the_extra_reminder_reads_as_a_reminder() -> None:
    s = make.survey()
    for lang, subject in (("nb", "Påminnelse: "), ("nn", "Påminning: "), ("en", "Reminder: ")):
        msg = compose.survey_email(s, "reminder-extra-1", make.member(language=lang), make.links(s), make.sender(),
                                   make.panel(), compose.Templates(), make.NOW)
        assert str(msg["Subject"]).startswith(subject)


def panel_with_answers(tmp_path: Path) -> Path:
    cfg = write_panel(tmp_path / "panel")
    shutil.copy(ROOT / "schedules" / "ombruk-2022.toml", cfg.parent / "schedules")
    (cfg.parent / "population.toml").write_text('source = "test"\n[gender]\nkvinne = 3\nmann = 1\n',
                                                encoding="utf-8")
    store = Store(load_settings(cfg, load_env=False).database_url)
    store.upgrade()
    with store.transaction() as s:
        seed(s, make_survey())
    store.dispose()
    return cfg


def remind(cfg: Path, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["remind", "ombruk-2022", "--config", str(cfg), "--now", "2022-12-06T12:00",
                                 *extra], env={"COLUMNS": "160"})
    return result.exit_code, result.output


def queued(cfg: Path) -> dict[str, int]:
    store = Store(load_settings(cfg, load_env=False).database_url)
    try:
        with store.transaction() as s:
            rows = s.execute(select(Outbox.step, Outbox.member_id).where(Outbox.step.like("reminder-extra-%")))
            out: dict[str, int] = {}
            for step, _ in rows:
                out[step] = out.get(step, 0) + 1
            return out
    finally:
        store.dispose()


def test_cli_dry_run_counts_per_group_then_queues_once(tmp_path: Path) -> None:
    cfg = panel_with_answers(tmp_path)
    code, out = remind(cfg, "--underrepresented", "--dry-run")
    assert code == 0, out
    assert [line.split() for line in out.splitlines() if "kvinne" in line or "Bekkestua" in line] == [
        ["│", "gender", "│", "kvinne", "│", "4", "│"], ["│", "district", "│", "Bekkestua", "│", "5", "│"]]
    assert "6 member(s) would get reminder-extra-1. Nothing was queued" in out
    assert queued(cfg) == {}
    code, out = remind(cfg, "--underrepresented")
    assert code == 0 and "6 email(s) queued as reminder-extra-1" in out
    code, out = remind(cfg, "--underrepresented")
    assert code == 0 and "0 email(s) queued as reminder-extra-2; 6 left out" in out
    assert queued(cfg) == {"reminder-extra-1": 6}
    code, out = remind(cfg, "--underrepresented", "--again", "--dimension", "gender")
    assert code == 0 and "4 email(s) queued as reminder-extra-2" in out
    assert queued(cfg) == {"reminder-extra-1": 6, "reminder-extra-2": 4}


def test_cli_says_what_is_wrong_and_queues_nothing(tmp_path: Path) -> None:
    cfg = panel_with_answers(tmp_path)
    code, out = remind(cfg)
    assert code == 2 and "--underrepresented" in out
    code, out = remind(cfg, "--underrepresented", "--dimension", "hair")
    assert code == 2 and "age_band, gender, district" in out
    result = runner.invoke(app, ["remind", "ombruk-2022", "--underrepresented", "--config", str(cfg),
                                 "--now", "2023-01-10T12:00"])
    assert result.exit_code == 2 and "is not running now" in result.output
    assert queued(cfg) == {}
