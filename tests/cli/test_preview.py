"""`mailbot preview`, `send-test` and `templates check` as staff run them: files, mail, exit codes."""

from __future__ import annotations

import json
import mailbox
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mailbot.cli import app
from mailbot.tokens import Keys, token_from_address
from tests.cli.conftest import ROOT, TOKEN_KEY, write_members

MARKERS = {
    "nb": "Skriv svaret ditt over denne linjen",
    "nn": "Skriv svaret ditt over denne lina",
    "en": "Write your answer above this line",
}


def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def members(panel: Path, runner: CliRunner) -> Path:
    """person0 (nb), person1 (nn), person2 (en) … on the panel."""
    code, _, err = invoke(runner, "members", "import", str(write_members(panel, 6)))
    assert code == 0, err
    return panel


# ---------------------------------------------------------------- preview


def test_preview_writes_text_html_and_the_whole_message(panel: Path, runner: CliRunner) -> None:
    code, out, err = invoke(runner, "preview", "ombruk-2022", "invitation", "--out", "look")
    assert code == 0, err
    text = (panel / "look" / "ombruk-2022.invitation.nb.txt").read_text(encoding="utf-8")
    html = (panel / "look" / "ombruk-2022.invitation.nb.html").read_text(encoding="utf-8")
    raw = (panel / "look" / "ombruk-2022.invitation.nb.eml").read_bytes()
    assert MARKERS["nb"] in text and "Er det behov for en ombruksbutikk i Bærum?" in text
    assert "<html" in html.lower() and "ombruksbutikk" in html
    message = message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Behov for en ombruksbutikk i Bærum"
    assert "Subject: Behov for en ombruksbutikk i Bærum" in out


@pytest.mark.parametrize(("member", "lang"), [("person0@example.org", "nb"), ("person1@example.org", "nn"),
                                               ("person2@example.org", "en")])
def test_preview_is_written_in_the_members_language(members: Path, runner: CliRunner, member: str,
                                                    lang: str) -> None:
    code, out, err = invoke(runner, "preview", "ombruk-2022", "reminder-1", "--member", member, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["language"] == lang and report["member"] == member
    text = Path(report["text"]).read_text(encoding="utf-8")
    assert MARKERS[lang] in text
    assert all(MARKERS[other] not in text for other in MARKERS if other != lang)
    assert "Person " in text  # the member's own name


@pytest.mark.parametrize("lang", ["nb", "nn", "en"])
def test_preview_lang_overrides_the_language(panel: Path, runner: CliRunner, lang: str) -> None:
    code, out, err = invoke(runner, "preview", "ombruk-2022", "invitation", "--lang", lang, "--json")
    assert code == 0, err
    assert MARKERS[lang] in Path(json.loads(out)["text"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("step", ["results", "receipt", "not-understood", "closed"])
def test_preview_shows_the_other_emails_of_a_survey(panel: Path, runner: CliRunner, step: str) -> None:
    code, out, err = invoke(runner, "preview", "ombruk-2022", step, "--lang", "nn", "--json")
    assert code == 0, err
    assert Path(json.loads(out)["html"]).stat().st_size > 500


def test_preview_links_name_no_member(panel: Path, runner: CliRunner) -> None:
    code, out, err = invoke(runner, "preview", "ombruk-2022", "invitation", "--json")
    assert code == 0, err
    message = message_from_bytes(Path(json.loads(out)["eml"]).read_bytes(), policy=policy.default)
    token = str(message["List-Unsubscribe"]).split("/avmeld/")[1].split(">")[0]
    assert Keys((TOKEN_KEY,)).read_link_token("unsubscribe", token) == {"m": 0}


def test_preview_opens_the_browser_when_asked(panel: Path, runner: CliRunner,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    code, _, err = invoke(runner, "preview", "ombruk-2022", "invitation", "--open")
    assert code == 0, err
    assert opened and opened[0].startswith("file://") and opened[0].endswith(".invitation.nb.html")


def test_an_unknown_campaign_lists_the_ids(panel: Path, runner: CliRunner) -> None:
    code, out, err = invoke(runner, "preview", "ombruk-2023", "invitation")
    assert code == 2
    assert "no campaign 'ombruk-2023'" in err
    for known in ("ombruk-2022", "klima-2019", "aldersvennlig-2021"):
        assert known in err
    assert "Traceback" not in err + out


def test_an_unknown_step_lists_the_steps(panel: Path, runner: CliRunner) -> None:
    code, _, err = invoke(runner, "preview", "ombruk-2022", "reminder-3")
    assert code == 2
    assert "no step 'reminder-3'" in err
    assert "invitation, reminder-1, reminder-2, results" in err


def test_an_unknown_member_says_how_to_find_one(members: Path, runner: CliRunner) -> None:
    code, _, err = invoke(runner, "preview", "ombruk-2022", "invitation", "--member", "nobody@example.org")
    assert code == 2
    assert "no member with the address 'nobody@example.org'" in err and "mailbot members list" in err


def test_a_bad_language_names_the_three(panel: Path, runner: CliRunner) -> None:
    code, _, err = invoke(runner, "preview", "ombruk-2022", "invitation", "--lang", "se")
    assert code == 2
    assert "--lang 'se'" in err and "nb" in err and "nn" in err and "en" in err
    assert not (panel / "preview").exists()


# ---------------------------------------------------------------- send-test


def _only_message(folder: Path) -> EmailMessage:
    box = mailbox.Maildir(folder, create=False)
    keys = list(box.keys())
    assert len(keys) == 1
    msg = message_from_bytes(box.get_bytes(keys[0]), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_send_test_lands_in_the_local_mailbox_marked_test(panel: Path, runner: CliRunner) -> None:
    code, out, err = invoke(runner, "send-test", "ombruk-2022", "invitation", "--to", "Staff@Baerum.example.no",
                            "--lang", "en", "--json")
    assert code == 0, err
    report = json.loads(out)
    msg = _only_message(Path(report["mailbox"]))
    assert str(msg["Subject"]).startswith("[TEST] ")
    assert msg["To"].addresses[0].addr_spec == "Staff@Baerum.example.no"
    assert msg["Message-ID"] == report["message_id"] and msg["Message-ID"].startswith("<test.")
    body = msg.get_body(("plain",))
    assert body is not None and MARKERS["en"] in body.get_content()
    # The reply address and the links are signed, and name row 0 / member 0: nobody's answer.
    keys = Keys((TOKEN_KEY,))
    reply = token_from_address(msg["Reply-To"].addresses[0].addr_spec, "innbyggerpanel")
    assert reply is not None and keys.read_address_token(reply) == 0
    token = str(msg["List-Unsubscribe"]).split("/avmeld/")[1].split(">")[0]
    assert keys.read_link_token("unsubscribe", token) == {"m": 0}


def test_two_test_sends_have_their_own_message_ids(panel: Path, runner: CliRunner) -> None:
    ids = []
    for _ in range(2):
        code, out, err = invoke(runner, "send-test", "ombruk-2022", "reminder-1", "--to", "me@example.no", "--json")
        assert code == 0, err
        ids.append(json.loads(out)["message_id"])
    assert ids[0] != ids[1]


def test_send_test_to_something_that_is_not_an_address(panel: Path, runner: CliRunner) -> None:
    code, _, err = invoke(runner, "send-test", "ombruk-2022", "invitation", "--to", "kari at example.no")
    assert code == 2
    assert "is not an email address" in err


def test_send_test_without_a_token_key_says_how_to_make_one(panel: Path, runner: CliRunner,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILBOT_TOKEN_KEY")
    code, _, err = invoke(runner, "send-test", "ombruk-2022", "invitation", "--to", "me@example.no")
    assert code == 2
    assert "MAILBOT_TOKEN_KEY" in err


def test_send_test_when_the_mail_server_is_down_fails_at_run_time(panel: Path, runner: CliRunner) -> None:
    config = panel / "config.toml"
    config.write_text(config.read_text(encoding="utf-8").replace('kind = "local"', 'kind = "smtp"'),
                      encoding="utf-8")
    code, _, err = invoke(runner, "send-test", "ombruk-2022", "invitation", "--to", "me@example.no")
    assert code == 1
    assert "not sent" in err


# ---------------------------------------------------------------- templates check


def test_templates_check_passes_on_the_built_in_templates(panel: Path, runner: CliRunner) -> None:
    code, out, err = invoke(runner, "templates", "check")
    assert code == 0, err
    assert "templates OK" in out


def test_templates_check_names_file_and_line_of_an_undefined_value(panel: Path, runner: CliRunner) -> None:
    own = panel / "templates" / "nn"
    own.mkdir(parents=True)
    src = ROOT / "templates" / "emails" / "survey.txt"
    lines = src.read_text(encoding="utf-8").splitlines()
    lines.insert(3, "Hei {{ recipient.fornavn }}")
    (own / "survey.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = invoke(runner, "templates", "check", "--json")
    assert code == 2
    problems = json.loads(out)["problems"]
    assert any(p["file"].endswith("nn/survey.txt") and p["line"] == 4 and "fornavn" in p["what"]
               for p in problems), problems
    code, _, err = invoke(runner, "templates", "check")
    assert code == 2
    assert "templates/nn/survey.txt:4:" in err


def test_templates_check_catches_a_misnamed_template(panel: Path, runner: CliRunner) -> None:
    own = panel / "templates" / "nn"
    own.mkdir(parents=True)
    (own / "survy.txt").write_text((ROOT / "templates" / "emails" / "survey.txt").read_text(encoding="utf-8"),
                                   encoding="utf-8")
    code, _, err = invoke(runner, "templates", "check")
    assert code == 2
    assert "nn/survy.txt" in err and "nn/survey.txt" in err
    assert "Traceback" not in err
