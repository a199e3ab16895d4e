"""Course and recruitment emails: Norwegian dates, the webinar link, one-click links and an .ics attached."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest
from icalendar import Calendar

from mailbot import campaign_mail, compose
from mailbot.people import Recipient
from tests.campaigns.conftest import make_course, make_recruitment
from tests.conftest import oslo

SENDER = compose.Sender("Innbyggerpanelet <panel@baerum.example.no>", "panel+tok@svar.baerum.example.no",
                        "<1.abc@baerum.example.no>", "Innbyggerpanelet <panel.baerum.example.no>")
LINKS = compose.Links("https://p/svar/t", "https://p/avmeld/t", "mailto:panel+t@svar?subject=STOPP",
                      {("svar", "Ja"): "https://p/svar/t/svar/Ja", ("svar", "Pause"): "https://p/svar/t/svar/Pause",
                       ("svar", "Nei"): "https://p/svar/t/svar/Nei"})


def _mail(settings, kind, payload, campaign, lang="nb"):
    reader = Recipient(1, "kari@example.no", "Kari", lang)
    msg = campaign_mail.email(kind, {**payload, "campaign": campaign.id}, reader, {campaign.id: campaign}, LINKS,
                              SENDER, settings.panel, compose.Templates(), oslo(2020, 9, 9, 18))
    return message_from_bytes(msg.as_bytes(), policy=policy.default)


def test_a_lesson_email_has_the_date_in_norwegian_the_webinar_link_and_an_ics(settings):
    course = make_course()
    msg = _mail(settings, "course-lesson", {"group": "host-2020", "lesson": 1}, course)
    text = msg.get_body(("plain",)).get_content()
    assert "tirsdag 15. september kl. 18.00" in text
    assert course.webinar_url in text and "https://p/svar/t/svar/Pause" in text
    ics = next(p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar")
    assert ics.get_param("method") == "REQUEST"
    event = Calendar.from_ical(ics.get_content()).walk("VEVENT")[0]
    assert event.decoded("DTSTART") == oslo(2020, 9, 15, 18)


def test_english_and_nynorsk_readers_get_dates_in_their_language(settings):
    course = make_course()
    en = _mail(settings, "course-lesson", {"group": "host-2020", "lesson": 6}, course, "en")
    assert "Tuesday 27 October at 18:00" in en.get_body(("plain",)).get_content()
    nn = _mail(settings, "course-lesson", {"group": "host-2020", "lesson": 6}, course, "nn")
    assert "tysdag 27. oktober kl. 18.00" in nn.get_body(("plain",)).get_content()


def test_a_cancelled_workshop_seat_carries_a_calendar_cancel(settings):
    r = make_recruitment()
    msg = _mail(settings, "recruitment-answer", {"group": "workshop-1", "outcome": "declined"}, r)
    ics = next(p for p in msg.iter_attachments() if p.get_content_type() == "text/calendar")
    assert str(Calendar.from_ical(ics.get_content())["METHOD"]) == "CANCEL"


def test_a_seat_confirmation_names_the_workshop_and_its_time(settings):
    r = make_recruitment()
    msg = _mail(settings, "recruitment-answer", {"group": "workshop-2", "outcome": "seated"}, r)
    assert "Du har plass" in str(msg["Subject"])
    assert "Workshop 2, torsdag 18. juni kl. 17.00" in msg.get_body(("plain",)).get_content()


BOKMAL_ONLY = re.compile(r"\b(ikke|jeg|hvor|Hilsen|Påminnelse|ligger ved|leksjoner|plasser|timer|innen|ellers|"
                         r"videre|Velg|flere|også|fortsatt|endret|stengt|Påmeldingen|ventelisten|en e-post)\b")
NORWEGIAN = re.compile(r"\b(Hei|Du|Svar|ikke|ikkje|plass|leksjon|Helsing|Hilsen|Takk|venteliste)\b")
CASES = [
    ("course-invitation", {"group": "host-2020"}, "course"),
    ("course-lesson", {"group": "host-2020", "lesson": 2}, "course"),
    ("course-reminder", {"group": "host-2020", "lesson": 2}, "course"),
    ("course-feedback", {"group": "host-2020", "lesson": 2}, "course"),
    *[("course-answer", {"group": "host-2020", "outcome": o}, "course")
      for o in ("seated", "waitlisted", "offered", "paused", "resumed", "skipping", "declined", "expired", "closed",
                "full", "not-enrolled", "unchanged")],
    ("recruitment-invitation", {}, "recruitment"),
    ("recruitment-reminder", {"group": "workshop-1", "outcome": "reminder"}, "recruitment"),
    *[("recruitment-answer", {"group": "workshop-1", "outcome": o}, "recruitment")
      for o in ("seated", "waitlisted", "volunteered", "offered", "moved", "cancelled", "declined", "expired",
                "closed", "full", "unchanged")],
]


@pytest.mark.parametrize("lang", ["nn", "en"])
def test_nynorsk_and_english_readers_get_their_own_language_not_bokmal(settings, lang):
    for kind, payload, which in CASES:
        campaign = make_course() if which == "course" else make_recruitment()
        msg = _mail(settings, kind, payload, campaign, lang)
        for part in ("plain", "html"):
            body = msg.get_body((part,)).get_content()
            # The campaign's own words (title, intro, cohort, place) are staff's, in Bokmål: leave them out.
            for own in (campaign.title, campaign.intro, "Høsten 2020", "Bærum rådhus"):
                body = body.replace(own, "")
            text = f"{msg['Subject']}\n{body.split(chr(10) + '-- ' + chr(10))[0]}"  # without the footer
            wrong = BOKMAL_ONLY if lang == "nn" else NORWEGIAN
            assert not wrong.findall(text), (kind, payload, part, wrong.findall(text))
