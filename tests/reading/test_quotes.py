"""The sender's own words are found under every client's way of quoting and signing."""

from __future__ import annotations

import pytest

from mailbot.reading.quotes import extract_new_text

QUOTED_SURVEY = "> 1. Er det behov for en ombruksbutikk i Bærum?\n>    A) Ja  B) Nei  C) Vet ikke\n"


def _typed(body: str) -> str:
    return extract_new_text(body).text


@pytest.mark.parametrize(
    "header",
    [
        "tor. 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet <innbyggerpanel@baerum.example.no>:",
        "tor. 1. des. 2022 kl. 09:00 skrev Innbyggerpanelet <\ninnbyggerpanel@baerum.example.no>:",
        "Den 01.12.2022 09:00, skrev Innbyggerpanelet:",
        "On Thu, 1 Dec 2022 at 09:00, Innbyggerpanelet <innbyggerpanel@baerum.example.no> wrote:",
        "Am 01.12.2022 um 09:00 schrieb Innbyggerpanelet <innbyggerpanel@baerum.example.no>:",
        "Den 1 dec. 2022 kl. 09:00 skrev Innbyggerpanelet <innbyggerpanel@baerum.example.no>:",
    ],
    ids=["gmail-nb", "gmail-nb-wrapped", "thunderbird-nb", "gmail-en", "apple-de", "apple-sv-da"],
)
def test_attribution_line_before_a_prefixed_quote_is_cut(header: str) -> None:
    assert _typed(f"1 A 2 B\n\n{header}\n\n{QUOTED_SURVEY}") == "1 A 2 B"


@pytest.mark.parametrize(
    "block",
    [
        "Fra: Innbyggerpanelet <innbyggerpanel@baerum.example.no>\nSendt: torsdag 1. desember 2022 09:00\n"
        "Til: Kari\nEmne: Spørreundersøkelse",
        "________________________________\nFra: Innbyggerpanelet <innbyggerpanel@baerum.example.no>\n"
        "Sendt: Thursday, December 1, 2022 9:00:00 AM\nTil: kari@example.no",
        "From: Innbyggerpanelet\nSent: Thursday, December 1, 2022 9:00 AM\nTo: Kari\nSubject: Survey",
        "-----Original Message-----\nFrom: Innbyggerpanelet",
        "-----Opprinnelig melding-----\nFra: Innbyggerpanelet",
        "-------- Opprinnelig melding --------\nFra: Innbyggerpanelet <innbyggerpanel@baerum.example.no> \n"
        "Dato: 01.12.2022 09:00 (GMT+01:00) ",
    ],
    ids=["outlook-nb", "outlook-ios", "outlook-en", "original-message", "opprinnelig-melding", "samsung"],
)
def test_outlook_style_header_cuts_the_unprefixed_original(block: str) -> None:
    body = f"1 A 2 B\n\n{block}\n\nHei Kari,\n1. Er det behov for en ombruksbutikk?\n1 A 2 B,C 3 4"
    new = extract_new_text(body)
    assert new.text == "1 A 2 B"
    assert "Er det behov" in new.original


def test_reply_above_marker_cuts_even_without_a_header() -> None:
    assert _typed("1 A\n\n-- Skriv svaret ditt over denne linjen --\nfooter") == "1 A"


@pytest.mark.parametrize(
    "marker",
    [
        "-- Skriv svaret ditt over denne lina --",
        "-- Write your answer above this line --",
        "--skriv svaret over denne linjen--",
    ],
)
def test_marker_variants_in_nynorsk_and_english_are_recognised(marker: str) -> None:
    assert extract_new_text(f"1 A\n{marker}\nrest").marker_seen


@pytest.mark.parametrize(
    "signature",
    [
        "Sendt fra min iPhone",
        "Sent from my iPhone",
        "Hentet fra Outlook for iOS<https://aka.ms/o0ukef>",
        "Sendt fra min Galaxy",
        "-- \nKari Nordmann\nTlf 123 45 678",
        "Med vennlig hilsen\nKari Nordmann",
        "Mvh\nKari",
        "Med venleg helsing\nOla",
    ],
)
def test_signatures_are_not_part_of_the_typed_text(signature: str) -> None:
    assert _typed(f"1 A 2 B\n\n{signature}\n") == "1 A 2 B"


def test_employer_disclaimer_is_cut() -> None:
    body = "1 A\n\nDenne e-posten kan inneholde konfidensiell informasjon. Hvis du ikke er rett mottaker ..."
    assert _typed(body) == "1 A"


def test_answers_typed_under_quoted_questions_keep_the_question_as_context() -> None:
    body = (
        "Den 01.12.2022 09:00, skrev Innbyggerpanelet:\n" + QUOTED_SURVEY + "\nNei takk.\n\n"
        "> 2. Hvilke varer bør butikken selge?\n\nKlær\n"
    )
    new = extract_new_text(body)
    assert new.text == "Nei takk.\n\nKlær"
    assert "> 1. Er det behov for en ombruksbutikk i Bærum?\n>    A) Ja  B) Nei  C) Vet ikke\nNei takk." in (
        new.with_context
    )
    assert "> 2. Hvilke varer bør butikken selge?\nKlær" in new.with_context


def test_bottom_posted_text_after_the_whole_quote_is_kept() -> None:
    body = "Den 01.12.2022 09:00, skrev Innbyggerpanelet:\n" + QUOTED_SURVEY + "\nJa\nKlær\n3\nHaslum\n"
    assert _typed(body) == "Ja\nKlær\n3\nHaslum"


def test_a_bare_forward_keeps_the_forwarded_message_as_the_text() -> None:
    # Nothing typed above it: the forwarded message is what the sender meant us to read.
    body = "---------- Forwarded message ----------\nFrom: bob@example.com\nDate: Tue, 6 Dec 2022\n\nText"
    assert "Text" in _typed(body)


def test_prose_ending_in_skrev_is_not_an_attribution() -> None:
    assert _typed("Som jeg skrev:\nvi trenger dette\n") == "Som jeg skrev:\nvi trenger dette"


def test_a_dated_sender_line_without_colon_above_a_quote_is_an_attribution() -> None:
    body = "Replying ok\n2011/4/7 Nathan Nilsen <support@example.com>\n\n>  Cool beans\n> More\n"
    assert _typed(body) == "Replying ok"


def test_a_dated_sender_line_without_a_quote_below_is_kept() -> None:
    body = "Møtet er flyttet\n2022/12/7 Kari Nordmann <kari@example.no>\nSe over"
    assert _typed(body) == body


# --- Other languages: the header words of each client language (mailbot.reading.quote_headers) ---

# Made-up replies: a resident abroad, or a relative's client in another language. Every one
# has a typed answer with a second paragraph (kept whole) and an original that must go.
TYPED = "Ja, det trengs.\n\nMøbler og klær, gjerne i Sandvika."
ORIGINAL_BODY = "Hei Kari,\n\n1. Er det behov for en ombruksbutikk?\nA) Ja  B) Nei\n\nInnbyggerpanelet"


@pytest.mark.parametrize(
    "block",
    [
        "Von: Innbyggerpanelet <panel@baerum.example.no>\nGesendet: Donnerstag, 1. Dezember 2022 09:00\n"
        "An: Kari Nordmann <kari@example.de>\nBetreff: Ombruksbutikk",
        "Från: Innbyggerpanelet <panel@baerum.example.no>\nSkickat: den 1 december 2022 09:00\n"
        "Till: Kari Nordmann\nÄmne: Ombruksbutikk",
        "Fra: Innbyggerpanelet <panel@baerum.example.no>\nSendt: 1. december 2022 09:00\nTil: Kari\n"
        "Cc: Ola\nEmne: Ombruksbutikk",
        "Van: Innbyggerpanelet <panel@baerum.example.no>\nVerzonden: donderdag 1 december 2022 09:00\n"
        "Aan: Kari\nOnderwerp: Ombruksbutikk",
        "De : Innbyggerpanelet <panel@baerum.example.no>\nEnvoyé : jeudi 1 décembre 2022 09:00\n"
        "À : Kari\nObjet : Ombruksbutikk",
        "De: Innbyggerpanelet <panel@baerum.example.no>\nEnviado el: jueves, 1 de diciembre de 2022 9:00\n"
        "Para: Kari\nAsunto: Ombruksbutikk",
        "De: Innbyggerpanelet <panel@baerum.example.no>\nEnviado: quinta-feira, 1 de dezembro de 2022 09:00\n"
        "Para: Kari\nAssunto: Ombruksbutikk",
        "Da: Innbyggerpanelet <panel@baerum.example.no>\nInviato: giovedì 1 dicembre 2022 09:00\nA: Kari\n"
        "Oggetto: Ombruksbutikk",
        "Od: Innbyggerpanelet <panel@baerum.example.no>\nWysłano: czwartek, 1 grudnia 2022 09:00\nDo: Kari\n"
        "Temat: Ombruksbutikk",
        "Lähettäjä: Innbyggerpanelet <panel@baerum.example.no>\nLähetetty: torstai 1. joulukuuta 2022 9.00\n"
        "Vastaanottaja: Kari\nAihe: Ombruksbutikk",
        "От: Innbyggerpanelet <panel@baerum.example.no>\nОтправлено: 1 декабря 2022 г. 9:00\nКому: Кари\n"
        "Тема: Ombruksbutikk",
        "Від: Innbyggerpanelet <panel@baerum.example.no>\nНадіслано: 1 грудня 2022 р. 9:00\nКому: Карі\n"
        "Тема: Ombruksbutikk",
        "Od: Innbyggerpanelet <panel@baerum.example.no>\nOdesláno: čtvrtek 1. prosince 2022 9:00\nKomu: Kari\n"
        "Předmět: Ombruksbutikk",
        "差出人: Innbyggerpanelet <panel@baerum.example.no>\n送信日時: 2022年12月1日 9:00\n宛先: Kari\n"
        "件名: Ombruksbutikk",
        "发件人：Innbyggerpanelet <panel@baerum.example.no>\n发送时间：2022年12月1日 9:00\n收件人：Kari\n"
        "主题：Ombruksbutikk",
        "*From:* Innbyggerpanelet <panel@baerum.example.no>\n*Sent:* Thursday, December 1, 2022 9:00 AM\n"
        "*To:* Kari\n*Subject:* Ombruksbutikk",
        "From: Innbyggerpanelet <panel@baerum.example.no> Sent: Thursday, December 1, 2022 9:00 AM "
        "To: Kari Subject: Ombruksbutikk",
        "From: Innbyggerpanelet <panel@baerum.example.no>\n\nDate: Thursday, December 1, 2022 9:00 AM\n\n"
        "To: Kari",
        "Fra: Innbyggerpanelet <panel@baerum.example.no>\nDate: tor. 1. des. 2022 kl. 09:00\n"
        "Subject: Ombruksbutikk\nTo: Kari Nordmann <kari@example.no>,\n Ola Nordmann <ola@example.no>",
    ],
    ids=[
        "de", "sv", "da", "nl", "fr", "es", "pt", "it", "pl", "fi", "ru", "uk", "cs", "ja", "zh",
        "bold-en", "one-line-en", "blank-lines-inside", "mixed-nb-en-wrapped-to",
    ],
)
def test_a_header_block_in_any_language_cuts_the_original_and_keeps_the_answer_whole(block: str) -> None:
    new = extract_new_text(f"{TYPED}\n\n{block}\n\n{ORIGINAL_BODY}")
    assert new.text == TYPED
    assert "Er det behov" in new.original


@pytest.mark.parametrize(
    "attribution",
    [
        "On Thu, 1 Dec 2022 at 09:00, Innbyggerpanelet <panel@baerum.example.no> wrote:",
        "On 1 Dec 2022, at 09:00, Innbyggerpanelet <panel@baerum.example.no> wrote:",
        "Am Do., 1. Dez. 2022 um 09:00 Uhr schrieb Innbyggerpanelet <panel@baerum.example.no>:",
        "Le jeu. 1 déc. 2022 à 09:00, Innbyggerpanelet <panel@baerum.example.no> a écrit :",
        "El jue, 1 dic 2022 a las 9:00, Innbyggerpanelet (<panel@baerum.example.no>) escribió:",
        "Em qui., 1 de dez. de 2022 às 09:00, Innbyggerpanelet <panel@baerum.example.no> escreveu:",
        "Il giorno gio 1 dic 2022 alle ore 09:00 Innbyggerpanelet <panel@baerum.example.no> ha scritto:",
        "Op do 1 dec. 2022 om 09:00 schreef Innbyggerpanelet <panel@baerum.example.no>:",
        "Op 1 dec. 2022, om 09:00 heeft Innbyggerpanelet <panel@baerum.example.no> het volgende geschreven:",
        "Den tors 1 dec. 2022 kl 09:00 skrev Innbyggerpanelet <panel@baerum.example.no>:",
        "Den tor. 1. dec. 2022 kl. 09.00 skrev Innbyggerpanelet <panel@baerum.example.no>:",
        "czw., 1 gru 2022 o 09:00 Innbyggerpanelet <panel@baerum.example.no> napisał(a):",
        "to 1. jouluk. 2022 klo 9.00 Innbyggerpanelet (panel@baerum.example.no) kirjoitti:",
        "01.12.2022 09:00, Innbyggerpanelet пишет:",
        "чт, 1 дек. 2022 г. в 09:00, Innbyggerpanelet <panel@baerum.example.no>:",
        "чт, 1 груд. 2022 р. о 09:00 Innbyggerpanelet <panel@baerum.example.no> пише:",
        "čt 1. 12. 2022 v 9:00 odesílatel Innbyggerpanelet <panel@baerum.example.no> napsal:",
        "2022年12月1日(木) 9:00 Innbyggerpanelet <panel@baerum.example.no>:",
        "Innbyggerpanelet <panel@baerum.example.no> 于2022年12月1日周四 09:00写道：",
        "2022년 12월 1일 (목) 오전 9:00, Innbyggerpanelet <panel@baerum.example.no>님이 작성:",
        "Innbyggerpanelet <panel@baerum.example.no>, 1 Ara 2022 Per, 09:00 tarihinde şunu yazdı:",
        "Am 01.12.2022 um 09:00 schrieb Innbyggerpanelet\n<panel@baerum.example.no>:",
        "On Thu, Dec 1, 2022 at 9:00 AM Innbyggerpanelet <\npanel@baerum.example.no> wrote:",
        "Le jeu. 1 déc. 2022 à 09:00, Innbyggerpanelet\n<panel@baerum.example.no> a écrit :",
        "---- Innbyggerpanelet wrote ----",
    ],
    ids=[
        "en-gmail", "en-apple", "de", "fr", "es", "pt", "it", "nl", "nl-apple", "sv", "da", "pl", "fi",
        "ru-thunderbird", "ru-gmail", "uk", "cs", "ja", "zh", "ko", "tr", "de-wrapped", "en-wrapped",
        "fr-wrapped", "android",
    ],
)
def test_a_wrote_line_in_any_language_cuts_the_quote_below_it(attribution: str) -> None:
    body = f"{TYPED}\n\n{attribution}\n\n{QUOTED_SURVEY}>\n> Innbyggerpanelet\n"
    assert _typed(body) == TYPED


@pytest.mark.parametrize(
    "attribution",
    [
        "On Thu, 1 Dec 2022 at 09:00, Innbyggerpanelet <panel@baerum.example.no> wrote:",
        "Am 01.12.2022 um 09:00 schrieb Innbyggerpanelet <panel@baerum.example.no>:",
        "Em 01/12/2022 09:00, Innbyggerpanelet escreveu:",
    ],
)
def test_a_wrote_line_over_an_unprefixed_original_cuts_all_below(attribution: str) -> None:
    new = extract_new_text(f"{TYPED}\n\n{attribution}\n\n{ORIGINAL_BODY}")
    assert new.text == TYPED
    assert "Er det behov" in new.original


@pytest.mark.parametrize(
    "delimiter",
    [
        "-----Original Message-----",
        "----- Original Message -----",
        "-------- Original Message --------",
        "-----Ursprüngliche Nachricht-----",
        "--- Ursprüngliche Nachricht ---",
        "-----Message d'origine-----",
        "-----Mensaje original-----",
        "-----Mensagem original-----",
        "-----Messaggio originale-----",
        "-----Oorspronkelijk bericht-----",
        "-----Ursprungligt meddelande-----",
        "-----Oprindelig meddelelse-----",
        "-----Opprinnelig melding-----",
        "-----Alkuperäinen viesti-----",
        "-----Wiadomość oryginalna-----",
        "-----Исходное сообщение-----",
        "-----Оригінальне повідомлення-----",
        "-----Původní zpráva-----",
        "-----元のメッセージ-----",
        "-----原始邮件-----",
        "________________________________\nVon: Innbyggerpanelet <panel@baerum.example.no>",
        "________________________________\n\nFrån: Innbyggerpanelet <panel@baerum.example.no>",
    ],
)
def test_a_delimiter_line_in_any_language_cuts_the_original(delimiter: str) -> None:
    new = extract_new_text(f"{TYPED}\n\n{delimiter}\n{ORIGINAL_BODY}")
    assert new.text == TYPED
    assert "Er det behov" in new.original


@pytest.mark.parametrize(
    "forward",
    [
        "Begin forwarded message:\n\nFrom: Innbyggerpanelet <panel@baerum.example.no>\nDate: 1 December 2022",
        "---------- Forwarded message ---------\nFrom: Innbyggerpanelet <panel@baerum.example.no>",
        "-------- Videresendt melding --------\nFra: Innbyggerpanelet <panel@baerum.example.no>",
        "---------- Videresendt melding ---------\nFra: Innbyggerpanelet <panel@baerum.example.no>",
        "Videresendt melding:\n\nFra: Innbyggerpanelet <panel@baerum.example.no>",
        "Anfang der weitergeleiteten Nachricht:\n\nVon: Innbyggerpanelet <panel@baerum.example.no>",
        "---------- Weitergeleitete Nachricht ---------\nVon: Innbyggerpanelet <panel@baerum.example.no>",
        "Vidarebefordrat brev:\n\nFrån: Innbyggerpanelet <panel@baerum.example.no>",
        "Start på videresendt besked:\n\nFra: Innbyggerpanelet <panel@baerum.example.no>",
        "Début du message réexpédié :\n\nDe: Innbyggerpanelet <panel@baerum.example.no>",
        "Inicio del mensaje reenviado:\n\nDe: Innbyggerpanelet <panel@baerum.example.no>",
        "Início da mensagem encaminhada:\n\nDe: Innbyggerpanelet <panel@baerum.example.no>",
        "Begin doorgestuurd bericht:\n\nVan: Innbyggerpanelet <panel@baerum.example.no>",
        "Початок пересланого листа:\n\nВід: Innbyggerpanelet <panel@baerum.example.no>",
        "---------- Пересылаемое сообщение ---------\nОт: Innbyggerpanelet <panel@baerum.example.no>",
    ],
    ids=[
        "apple-en", "gmail-en", "thunderbird-nb", "gmail-nb", "apple-nb", "apple-de", "gmail-de", "apple-sv",
        "apple-da", "apple-fr", "apple-es", "apple-pt", "apple-nl", "apple-uk", "gmail-ru",
    ],
)
def test_text_typed_above_a_forward_is_the_reply_and_the_forward_the_original(forward: str) -> None:
    # A daughter answers for her father above his forwarded invitation.
    typed = "Jeg svarer for pappa:\n\n1 A\n2 Møbler"
    new = extract_new_text(f"{typed}\n\n{forward}\nTo: Per\n\n{ORIGINAL_BODY}")
    assert new.text == typed
    assert "Er det behov" in new.original


@pytest.mark.parametrize(
    "signature",
    [
        "Von meinem iPhone gesendet",
        "Von meinem Samsung Galaxy Smartphone gesendet.",
        "Gesendet von meinem iPad",
        "Skickat från min iPhone",
        "Sendt fra min iPhone",
        "Sendt frå min iPhone",
        "Enviado do meu iPhone",
        "Enviado desde mi iPhone",
        "Envoyé de mon iPhone",
        "Inviato da iPhone",
        "Verzonden vanaf mijn iPhone",
        "Wysłane z mojego iPhone'a",
        "Lähetetty iPhonesta",
        "Отправлено с iPhone",
        "Надіслано з iPhone",
        "Odesláno z iPhonu",
        "iPhoneから送信",
        "发自我的iPhone",
        "Get Outlook for Android",
        "Hent Outlook for Android<https://aka.ms/AAb9ysg>",
        "Sent from Yahoo Mail on Android",
        "Sent from my Galaxy",
        "-- \nKari Nordmann\nStorgata 1, 1337 Sandvika",
        "Mit freundlichen Grüßen\nKari Nordmann",
        "Med vänliga hälsningar\nKari",
        "Met vriendelijke groet,\nKari",
        "Cordialement,\nKari",
        "Pozdrawiam\nKari",
        "С уважением,\nКари",
        "-Kari\n\nSent from my iPhone",
    ],
)
def test_a_phone_line_or_signature_in_any_language_is_cut(signature: str) -> None:
    assert _typed(f"{TYPED}\n\n{signature}\n") == TYPED


@pytest.mark.parametrize(
    "typed",
    [
        # Field words and verbs inside what residents type are not a header.
        "Til: Sandvika sentrum, helst nær stasjonen",
        "Fra meg: ja. Dato: når som helst\nMøbler",
        "An: alle naboer\nwir brauchen das",
        "1 A\nsom jeg skrev:\nMøbler og klær",
        "4 Sandvika\nOn reflection I wrote:\nja",
        "Original message: ja takk",
        "Sendt fra kontoret, men svaret er ja.\nMøbler",
        "Vi trenger dette - Videresendt melding fra nabo: de vil ha klær",
        "Von mir aus gerne: ja\nMøbler",
    ],
)
def test_header_words_in_a_residents_own_sentences_are_kept(typed: str) -> None:
    assert _typed(typed) == typed


def test_typed_text_on_the_line_above_a_wrapped_wrote_line_is_kept() -> None:
    body = "1 A\n2 B\n4 Sandvika\nDen 01.12.2022 09:00, skrev Innbyggerpanelet:\n" + QUOTED_SURVEY
    assert _typed(body) == "1 A\n2 B\n4 Sandvika"


def test_a_wrote_line_broken_by_blank_lines_and_a_quote_mark_is_one_header() -> None:
    # Some clients break "On <date> <name> <<address>> wrote:" at the address's brackets.
    body = (
        "Ja takk\n\nOn Thu, Dec 1, 2022 at 9:00 AM Innbyggerpanelet\n\n<\nmailto:panel@baerum.example.no>\n"
        "> wrote:\nHei Kari\n"
    )
    assert _typed(body) == "Ja takk"


def test_a_delimiter_phrase_may_go_on_between_its_dashes() -> None:
    body = f"{TYPED}\n\n----- Forwarded by Kari Nordmann/Baerum on 01.12.2022 09:00 -----\n{ORIGINAL_BODY}"
    assert _typed(body) == TYPED


@pytest.mark.parametrize("line", ["Sent from Spark", "Sendt fra Fairphone", "Gesendet von Proton Mail"])
def test_a_short_sent_from_line_naming_an_app_is_a_signature(line: str) -> None:
    assert _typed(f"{TYPED}\n\n{line}") == TYPED


def test_a_dashed_name_over_a_signature_block_is_part_of_the_signature() -> None:
    body = f"{TYPED}\n\n-Kari\n\n--\nKari Nordmann\nTlf 123 45 678"
    assert _typed(body) == TYPED


def test_a_sign_off_over_a_whole_business_card_is_cut_up_to_the_quote() -> None:
    card = "\n".join(
        ["Mit freundlichen Grüßen", "", "Kari Nordmann", "Leiterin Einkauf", "Beispiel GmbH", "Hauptstraße 1",
         "12345 Berlin", "Tel. +49 30 123456", "Fax +49 30 123457", "kari@example.de", "www.example.de",
         "Geschäftsführer: Ola Nordmann", "Amtsgericht Berlin HRB 12345"]
    )
    body = f"{TYPED}\n\n{card}\n\nAm 01.12.2022 um 09:00 schrieb Innbyggerpanelet <panel@baerum.example.no>:\n> Hei"
    assert _typed(body) == TYPED


def test_answers_below_a_greeting_with_a_sign_off_word_are_kept() -> None:
    # A sign-off word with many answer lines and more text below is no signature.
    answers = "\n".join(f"{n} Svar nummer {n}" for n in range(1, 16))
    body = f"Hilsen alle\n{answers}\nTakk"
    assert _typed(body) == body


def test_a_quote_thousands_of_lines_long_keeps_the_answers_typed_under_and_below_it() -> None:
    # Looping or mutated mail: the middle of the long quote and surplus blank lines are cut before
    # anything is scanned, never the words typed between and after the quotes.
    long_quote = "> Tidligere svar\n" * 5_000
    blank = "\n" * 20_000
    body = f"{QUOTED_SURVEY}Ja\n\n{long_quote}{blank}> 2. Hva trenger du mest?\nMøbler\n\n{long_quote}Hilsen Kari"
    found = extract_new_text(body)
    assert found.text.split() == ["Ja", "Møbler"]
    assert "> 2. Hva trenger du mest?" in found.with_context
