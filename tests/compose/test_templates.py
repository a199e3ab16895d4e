"""Staff override built-in templates file by file; `check()` finds their mistakes with file and line."""

from __future__ import annotations

import shutil
from html import unescape
from pathlib import Path

from mailbot import compose
from mailbot.compose import BUILTIN_DIR, Templates
from mailbot.compose.samples import sample_contexts
from tests.compose import make


def staff_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return tmp_path


def builtin(name: str) -> str:
    """What a staff file `<lang>/<name>` starts from: the built-in layout all languages share."""
    return (BUILTIN_DIR / "emails" / name.split("/", 1)[1]).read_text(encoding="utf-8")


def test_the_built_in_templates_have_no_problems_in_any_language():
    assert Templates().check() == []


def test_a_staff_file_replaces_the_built_in_one_and_only_that_one(tmp_path):
    closed = ('{% set subject = "Beklager, for sent" %}'
              "For sent, {{ recipient.name }}! Stengte {{ survey.closes }}.\n")
    folder = staff_folder(tmp_path, {"nb/closed.txt": closed})
    t = Templates(folder)
    s = make.survey()
    msg = compose.closed_email(s, make.member(), make.links(s), make.sender(), make.panel(), t, make.NOW)
    assert make.parse(msg)["Subject"] == "Beklager, for sent"
    assert make.plain(msg) == "For sent, Kari Nordmann! Stengte torsdag 15. desember kl. 23.59.\n"
    assert "Undersøkelsen er stengt" in unescape(make.html(msg))  # closed.html still the built-in
    assert t.check() == []


def test_a_staff_file_wins_for_its_language_and_the_shared_layout_serves_the_others(tmp_path):
    folder = staff_folder(tmp_path, {"en/closed.txt": '{% set subject = "Too late" %}Too late.\n'})
    t = Templates(folder)
    own = t.render(t.pair("closed", "en"), dict(sample_contexts()["closed"]("en")))
    built_in = t.render(t.pair("closed", "nn"), dict(sample_contexts()["closed"]("nn")))
    assert (own.subject, own.text) == ("Too late", "Too late.\n")
    assert built_in.subject.startswith("Undersøkinga er stengd")  # the layout with the Nynorsk words
    assert t.check() == []


def test_check_reports_a_word_missing_from_one_language_with_the_layout_line(tmp_path):
    builtin_dir = tmp_path / "templates"
    shutil.copytree(BUILTIN_DIR, builtin_dir)
    words = builtin_dir / "emails" / "words.nn.toml"
    words.write_text(words.read_text(encoding="utf-8").replace("\nhow_answer = ", "\nhow_to_answer = "),
                     encoding="utf-8")
    problems = Templates(builtin_dir=builtin_dir).check()
    layout = builtin_dir / "emails" / "survey.html"
    line = next(i for i, text in enumerate(layout.read_text(encoding="utf-8").splitlines(), 1)
                if "t.how_answer" in text)
    assert [(p.file, p.line) for p in problems] == [(layout, line)]
    assert "'how_answer'" in problems[0].what and str(words) in problems[0].what


def test_check_reports_an_undefined_variable_with_the_file_and_line(tmp_path):
    broken = builtin("nb/survey.txt").replace("closes=survey.closes)", "closes=survey.deadline)")
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if "survey.deadline" in text)
    folder = staff_folder(tmp_path, {"nb/survey.txt": broken})
    problems = Templates(folder).check()
    assert [(p.file, p.line) for p in problems] == [(folder / "nb" / "survey.txt", line)]
    assert "deadline" in problems[0].what
    assert str(problems[0]).startswith(f"{folder / 'nb' / 'survey.txt'}:{line}: ")


def test_check_reports_an_undefined_variable_inside_an_included_partial(tmp_path):
    broken = builtin("nn/_footer.html").replace("{{ panel.address }}</a>", "{{ panel.phone }}</a>")
    folder = staff_folder(tmp_path, {"nn/_footer.html": broken})
    problems = Templates(folder).check()
    assert {p.file for p in problems} == {folder / "nn" / "_footer.html"}
    assert all(p.line == 5 and "phone" in p.what for p in problems)


def test_check_reports_a_syntax_error_with_its_line(tmp_path):
    folder = staff_folder(tmp_path, {"en/results.html": '{% extends "layout.html" %}\n{% block content %}\n'
                                                         "{% if results %}\n<p>x</p>\n{% endblock %}\n"})
    problems = Templates(folder).check()
    assert len(problems) == 1
    assert problems[0].file == folder / "en" / "results.html" and problems[0].line == 5
    assert "syntax" in problems[0].what


def test_check_reports_a_text_template_without_the_reply_marker(tmp_path):
    folder = staff_folder(tmp_path, {"nb/survey.txt": builtin("nb/survey.txt").replace("{{ marker }}\n", "")})
    problems = Templates(folder).check()
    assert len(problems) == 1 and "marker" in problems[0].what
    assert "{{ marker }}" in problems[0].instead


def test_check_reports_a_text_template_that_sets_no_subject(tmp_path):
    folder = staff_folder(tmp_path, {"nb/closed.txt": "Hei {{ recipient.name }}\n"})
    problems = Templates(folder).check()
    assert len(problems) == 1 and "subject" in problems[0].what


def test_check_names_a_staff_file_no_email_uses_and_suggests_the_right_name(tmp_path):
    folder = staff_folder(tmp_path, {"nb/survy.txt": "x"})
    problems = Templates(folder).check()
    assert [(p.file, p.instead) for p in problems] == [(folder / "nb" / "survy.txt",
                                                        "did you mean nb/survey.txt?")]


def test_check_reports_a_missing_translation_of_a_staff_notice(tmp_path):
    folder = staff_folder(tmp_path, {"nb/notice-welcome-back.txt": '{% set subject = "Hei igjen" %}Hei\n',
                                     "nb/notice-welcome-back.html": "<p>Hei</p>"})
    problems = Templates(folder).check(samples={"notice-welcome-back": lambda lang: {}})
    assert sorted(p.file.name for p in problems) == ["notice-welcome-back.html", "notice-welcome-back.html",
                                                     "notice-welcome-back.txt", "notice-welcome-back.txt"]
    assert all("missing" in p.what for p in problems)


def test_a_staff_folder_that_does_not_exist_means_the_built_in_templates(tmp_path):
    t = Templates(tmp_path / "nowhere")
    assert t.check() == []


def test_a_staff_notice_is_checked_with_stand_ins_for_what_its_caller_passes(tmp_path):
    files = {f"{lang}/notice-course-start.{suffix}": body
             for lang in ("nb", "nn", "en")
             for suffix, body in (("txt", '{% set subject = "Kurset starter " ~ (starts|date) %}'
                                          "Hei {{ recipient.name }}, se {{ course.url }}\n"),
                                  ("html", '{% extends "layout.html" %}{% block content %}'
                                           "<p>{{ course.title }}</p>{% endblock %}"))}
    assert Templates(staff_folder(tmp_path, files)).check() == []


def test_a_staff_notice_that_asks_a_member_for_something_we_do_not_have_is_reported(tmp_path):
    files = {f"{lang}/notice-course-start.{suffix}": body
             for lang in ("nb", "nn", "en")
             for suffix, body in (("txt", '{% set subject = "Kurs" %}Ring {{ recipient.phone }}\n'),
                                  ("html", '{% extends "layout.html" %}{% block content %}x{% endblock %}'))}
    problems = Templates(staff_folder(tmp_path, files)).check()
    assert len(problems) == 3 and all("phone" in p.what and p.line == 1 for p in problems)


def test_files_outside_the_language_folders_are_left_to_others(tmp_path):
    folder = staff_folder(tmp_path, {"pages/home.html": "<p>web</p>", "nb/_signature.txt": "Hilsen"})
    assert Templates(folder).check() == []
