"""Course and recruitment emails: Norwegian dates, the webinar link, one-click links and an .ics attached."""

from __future__ import annotations

from email import message_from_bytes, policy

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
