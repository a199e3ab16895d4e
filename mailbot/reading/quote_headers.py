"""The words mail clients write around a quoted or forwarded message, per language.

Residents reply from phones and webmail set to any language, and a forward from a
relative abroad carries that relative's client's words. The rules in
`mailbot.reading.quotes` are few and general ("two header fields of one language on
consecutive lines", "a line naming a date or an address and ending in a *wrote* verb",
"a delimiter phrase alone on a line"); this table is what they are general over. A
new language is a new entry here, never a new rule.

Every word is written in lower case: the rules compare them with lowered lines
(`mailbot.reading.vocabulary.lowered`), and the lookups below are built through
`lowered` too, so that Turkish "yazdı" is found where a lowered line has "yazdi".
"…" in a phrase stands for a few words of anything ("von meinem … gesendet": the
device's name).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.reading.vocabulary import lowered


@dataclass(frozen=True)
class Language:
    """One language's quote-header words. Field names are written without their colon."""

    from_: tuple[str, ...] = ()
    sent: tuple[str, ...] = ()  # "Sent:" and "Date:": when the original was sent
    to: tuple[str, ...] = ()
    subject: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()  # Cc, Bcc, Reply-To
    # Verbs of an attribution line: "On … Kari wrote:", "Am … schrieb Kari:".
    wrote: tuple[str, ...] = ()
    # Words an attribution line starts with ("On", "Am", "Le"): a line starting with one may
    # be an attribution wrapped over two lines by the client.
    openers: tuple[str, ...] = ()
    # Phrases alone on a line (between dashes, or ending in a colon) before an original.
    original: tuple[str, ...] = ()
    forwarded: tuple[str, ...] = ()
    # Lines a phone or app appends: a line starting with one is a signature.
    mobile: tuple[str, ...] = ()
    # "Sent from": a short line of these words and an app's name ("Sent from Spark") is one too.
    sent_from: tuple[str, ...] = ()
    # Sign-offs that open a signature when only a short name block follows them.
    sign_offs: tuple[str, ...] = ()


LANGUAGES: dict[str, Language] = {
    "en": Language(
        from_=("from",),
        sent=("sent", "date"),
        to=("to",),
        subject=("subject",),
        cc=("cc", "bcc", "reply-to"),
        # "sent": Polymail's "On …, Kari sent:"; "writes": some list software.
        wrote=("wrote", "writes", "sent"),
        openers=("on",),
        original=("original message", "reply message", "original e-mail", "original email"),
        forwarded=(
            "forwarded message", "begin forwarded message", "forwarded e-mail", "forwarded email", "forwarded by",
        ),
        mobile=(
            "sent from my", "sent from outlook", "sent from mail for", "sent from yahoo", "sent from samsung",
            "sent from mailbox", "sent from the all new aol app", "sent from aol", "sent from proton",
            "sent from gmail", "sent from my blackberry", "sent with ", "sent via ", "sent using ",
            "get outlook for",
        ),
        # Not "Regards," or "Thanks,": in English mail they are as often the message itself.
        sign_offs=("best regards", "kind regards", "warm regards", "best wishes"),
        sent_from=("sent from", "sent with", "sent via", "sent using"),
    ),
    "nb": Language(
        from_=("fra",),
        sent=("sendt", "dato"),
        to=("til",),
        subject=("emne",),
        cc=("kopi", "kopi til", "blindkopi", "svar til"),
        wrote=("skrev",),
        openers=("den", "på"),
        original=("opprinnelig melding", "original melding", "originalmelding", "opprinnelig e-post"),
        forwarded=(
            "videresendt melding", "videresendt e-post", "begynnelse på videresendt melding",
            "start på videresendt melding",
        ),
        mobile=(
            "sendt fra min", "sendt fra outlook", "sendt fra e-post", "sendt fra mail", "sendt fra yahoo",
            "sendt fra samsung", "sendt fra gmail", "sendt fra telefonen", "sendt fra mobilen",
            "hent outlook for", "hentet fra outlook", "skaff deg outlook for",
        ),
        sign_offs=(
            "med vennlig hilsen", "vennlig hilsen", "beste hilsen", "hilsen", "mvh", "m.v.h.", "vh",
            "hilsn", "klem", "mvh.",
        ),
        sent_from=("sendt fra", "sendt med", "sendt via"),
    ),
    "nn": Language(
        from_=("frå",),
        sent=("sendt", "dato"),
        to=("til",),
        subject=("emne",),
        cc=("kopi",),
        wrote=("skreiv", "skrev"),
        openers=("den", "på"),
        original=("opphavleg melding", "opprinneleg melding", "original melding"),
        forwarded=("vidaresendt melding", "vidaresendt e-post", "vidaresendt"),
        mobile=("sendt frå min", "sendt frå"),
        sign_offs=("med venleg helsing", "vennleg helsing", "venleg helsing", "beste helsing", "helsing", "helsinga"),
        sent_from=("sendt frå", "sendt med"),
    ),
    "da": Language(
        from_=("fra",),
        sent=("sendt", "dato"),
        to=("til",),
        subject=("emne",),
        cc=("cc", "kopi", "bcc"),
        wrote=("skrev",),
        openers=("den",),
        original=("oprindelig meddelelse", "originalmeddelelse", "original meddelelse", "oprindelig besked"),
        forwarded=("videresendt meddelelse", "videresendt besked", "start på videresendt besked", "videresendt mail"),
        mobile=("sendt fra min", "sendt fra outlook", "hent outlook til"),
        sign_offs=("med venlig hilsen", "venlig hilsen", "kærlig hilsen", "de bedste hilsner", "mvh", "vh"),
        sent_from=("sendt fra", "sendt med"),
    ),
    "sv": Language(
        from_=("från",),
        sent=("skickat", "datum", "skickades"),
        to=("till",),
        subject=("ämne",),
        cc=("kopia",),
        wrote=("skrev",),
        openers=("den",),
        original=("ursprungligt meddelande", "originalmeddelande", "ursprungligt e-postmeddelande"),
        forwarded=(
            "vidarebefordrat meddelande", "vidarebefordrat brev", "vidarebefordrat e-postmeddelande",
            "början på vidarebefordrat brev", "början på vidarebefordrat meddelande", "vidarebefordrat mejl",
            "början på vidarebefordrat mejl",
        ),
        mobile=("skickat från min", "skickat från", "hämta outlook för", "skaffa outlook för"),
        sign_offs=(
            "med vänliga hälsningar", "vänliga hälsningar", "med vänlig hälsning", "vänlig hälsning",
            "hälsningar", "mvh", "mvh.",
        ),
        sent_from=("skickat från", "skickat med", "skickat via"),
    ),
    "de": Language(
        from_=("von",),
        sent=("gesendet", "datum", "gesendet am"),
        to=("an",),
        subject=("betreff",),
        cc=("cc", "kopie", "antwort an"),
        wrote=("schrieb", "geschrieben"),
        openers=("am",),
        original=("ursprüngliche nachricht", "originalnachricht", "original nachricht", "antwort nachricht"),
        forwarded=(
            "weitergeleitete nachricht", "anfang der weitergeleiteten nachricht", "weitergeleitete e-mail",
            "weitergeleitete mail", "weitergeleitet von",
        ),
        mobile=(
            "von meinem … gesendet", "gesendet von meinem", "gesendet von", "gesendet mit",
            "holen sie sich outlook für", "outlook für android herunterladen", "outlook für ios herunterladen",
        ),
        sign_offs=(
            "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "freundliche grüsse",
            "viele grüße", "viele grüsse", "liebe grüße", "liebe grüsse", "beste grüße", "beste grüsse",
            "herzliche grüße", "schöne grüße", "mfg", "lg", "gruß", "grüße",
        ),
        sent_from=("gesendet von", "gesendet mit", "gesendet via", "gesendet aus"),
    ),
    "nl": Language(
        from_=("van",),
        sent=("verzonden", "datum", "verstuurd"),
        to=("aan",),
        subject=("onderwerp",),
        cc=("cc",),
        # "Op … heeft Kari het volgende geschreven:" (Apple Mail)
        wrote=("schreef", "geschreven"),
        openers=("op",),
        original=(
            "oorspronkelijk bericht", "origineel bericht", "oorspronkelijke bericht", "oorspronkelijk e-mailbericht",
        ),
        forwarded=(
            "doorgestuurd bericht", "begin doorgestuurd bericht", "doorgestuurde e-mail",
            "doorgestuurd e-mailbericht",
        ),
        mobile=(
            "verzonden vanaf mijn", "verstuurd vanaf mijn", "verzonden met", "verzonden vanuit",
            "outlook voor android downloaden", "outlook voor ios downloaden", "download outlook voor",
        ),
        sign_offs=(
            "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet", "groeten", "groetjes", "mvg",
        ),
        sent_from=("verzonden vanaf", "verstuurd vanaf", "verzonden met", "verstuurd met"),
    ),
    "fr": Language(
        from_=("de",),
        sent=("envoyé", "date", "envoyé le"),
        to=("à", "pour"),
        subject=("objet", "sujet"),
        cc=("cc", "cci", "répondre à"),
        wrote=("a écrit", "écrit"),
        openers=("le",),
        original=("message d'origine", "message d’origine", "message original", "courriel original"),
        forwarded=(
            "message transféré", "début du message réexpédié", "début du message transféré", "message réexpédié",
            "courriel transféré",
        ),
        mobile=(
            "envoyé de mon", "envoyé depuis mon", "envoyé depuis", "envoyé à partir de", "obtenir outlook pour",
            "téléchargez outlook pour",
        ),
        sign_offs=(
            "cordialement", "bien cordialement", "bien à vous", "meilleures salutations", "salutations",
            "amicalement",
        ),
        sent_from=("envoyé de", "envoyé depuis", "envoyé avec", "envoyé à partir de"),
    ),
    "es": Language(
        from_=("de",),
        sent=("enviado", "enviado el", "fecha"),
        to=("para",),
        subject=("asunto",),
        cc=("cc", "cco"),
        wrote=("escribió",),
        openers=("el",),
        original=("mensaje original",),
        forwarded=("mensaje reenviado", "inicio del mensaje reenviado", "correo reenviado"),
        mobile=("enviado desde mi", "enviado desde", "obtener outlook para", "descargar outlook para"),
        sign_offs=("saludos cordiales", "un saludo", "saludos", "atentamente", "un abrazo"),
        sent_from=("enviado desde", "enviado con"),
    ),
    "pt": Language(
        from_=("de",),
        sent=("enviado", "enviada", "enviado em", "enviada em", "data"),
        to=("para",),
        subject=("assunto",),
        cc=("cc", "cco"),
        wrote=("escreveu",),
        openers=("em", "no dia"),
        original=("mensagem original",),
        forwarded=(
            "mensagem encaminhada", "início da mensagem encaminhada", "início da mensagem reencaminhada",
            "mensagem reencaminhada",
        ),
        mobile=(
            "enviado do meu", "enviado de meu", "enviado do", "enviado a partir do", "obter o outlook para",
            "baixe o outlook para",
        ),
        sign_offs=(
            "atenciosamente", "com os melhores cumprimentos", "melhores cumprimentos", "cumprimentos", "abraços",
            "abraço",
        ),
        sent_from=("enviado do", "enviado de", "enviado pelo", "enviado a partir do"),
    ),
    "it": Language(
        from_=("da",),
        sent=("inviato", "data", "inviato il"),
        to=("a",),
        subject=("oggetto",),
        cc=("cc", "ccn"),
        wrote=("ha scritto", "scrisse"),
        openers=("il", "il giorno"),
        original=("messaggio originale",),
        forwarded=("messaggio inoltrato", "inizio messaggio inoltrato", "messaggio inoltrato inizio"),
        mobile=("inviato da", "inviato dal mio", "scarica outlook per"),
        sign_offs=("cordiali saluti", "distinti saluti", "un saluto", "saluti"),
        sent_from=("inviato da", "inviato con"),
    ),
    "pl": Language(
        from_=("od",),
        sent=("wysłano", "wysłane", "data"),
        to=("do",),
        subject=("temat",),
        cc=("dw", "kopia", "udw"),
        wrote=("napisał", "napisała", "pisze"),
        openers=("w dniu", "dnia"),
        original=("wiadomość oryginalna", "oryginalna wiadomość"),
        forwarded=(
            "wiadomość przekazana dalej", "przekazana wiadomość", "początek przekazywanej wiadomości",
            "przesłana wiadomość",
        ),
        mobile=("wysłane z mojego", "wysłane z", "wysłano z", "pobierz aplikację outlook"),
        sign_offs=("z poważaniem", "serdecznie pozdrawiam", "pozdrawiam", "pozdrowienia"),
        sent_from=("wysłane z", "wysłano z", "wysłane przez"),
    ),
    "fi": Language(
        from_=("lähettäjä",),
        sent=("lähetetty", "päivämäärä", "päiväys"),
        to=("vastaanottaja",),
        subject=("aihe",),
        cc=("kopio",),
        wrote=("kirjoitti",),
        original=("alkuperäinen viesti",),
        forwarded=("välitetty viesti", "välitetty viesti alkaa", "edelleenlähetetty viesti"),
        mobile=(
            "lähetetty iphonesta", "lähetetty androidista", "lähetetty samsung", "lähetetty outlook",
            "lähetetty matkapuhelimesta", "hanki outlook",
        ),
        sign_offs=("ystävällisin terveisin", "parhain terveisin", "terveisin"),
        sent_from=("lähetetty",),
    ),
    "ru": Language(
        from_=("от",),
        sent=("отправлено", "дата", "отправлен"),
        to=("кому",),
        subject=("тема",),
        cc=("копия",),
        wrote=("написал", "написала", "пишет"),
        original=("исходное сообщение", "оригинальное сообщение", "исходное письмо"),
        forwarded=(
            "пересылаемое сообщение", "пересланное сообщение", "начало переадресованного сообщения",
            "переадресованное сообщение", "пересылаемое письмо",
        ),
        mobile=("отправлено с", "отправлено из", "отправлено через"),
        sign_offs=("с уважением", "с наилучшими пожеланиями", "всего доброго"),
        sent_from=("отправлено с", "отправлено из", "отправлено через"),
    ),
    "uk": Language(
        from_=("від",),
        sent=("надіслано", "дата", "відправлено"),
        to=("кому",),
        subject=("тема",),
        cc=("копія",),
        wrote=("пише", "написав", "написала"),
        original=("оригінальне повідомлення", "вихідне повідомлення", "початкове повідомлення"),
        forwarded=(
            "переслане повідомлення", "пересилане повідомлення", "початок пересланого повідомлення",
            "початок пересланого листа", "пересланий лист", "пересилання повідомлення",
        ),
        mobile=("надіслано з", "відправлено з", "надіслано через"),
        sign_offs=("з повагою", "з найкращими побажаннями"),
        sent_from=("надіслано з", "відправлено з", "надіслано через"),
    ),
    "cs": Language(
        from_=("od",),
        sent=("odesláno", "datum"),
        to=("komu",),
        subject=("předmět",),
        cc=("kopie",),
        wrote=("napsal", "napsala"),
        openers=("dne",),
        original=("původní zpráva", "původní e-mail"),
        forwarded=("přeposlaná zpráva", "začátek přeposlané zprávy", "začátek přeposílané zprávy", "přeposlaný e-mail"),
        mobile=("odesláno z", "odesláno ze", "posláno z"),
        sign_offs=("s pozdravem", "s přátelským pozdravem"),
        sent_from=("odesláno z", "odesláno ze", "posláno z"),
    ),
    "tr": Language(
        from_=("kimden",),
        sent=("gönderildi", "tarih", "gönderilme"),
        to=("kime",),
        subject=("konu",),
        cc=("bilgi",),
        wrote=("yazdı",),
        original=("özgün ileti", "orijinal mesaj", "orijinal ileti"),
        forwarded=("iletilen ileti", "iletilmiş mesaj", "yönlendirilmiş mesaj", "iletilmiş ileti başlangıcı"),
        sign_offs=("saygılarımla",),
    ),
    "hu": Language(
        from_=("feladó",),
        sent=("elküldve", "dátum", "küldve"),
        to=("címzett",),
        subject=("tárgy",),
        cc=("másolat",),
        wrote=("írta",),
        original=("eredeti üzenet",),
        forwarded=("továbbított üzenet",),
        sign_offs=("üdvözlettel",),
    ),
    "el": Language(
        from_=("από",),
        sent=("στάλθηκε", "ημερομηνία", "ημ/νία"),
        to=("προς",),
        subject=("θέμα",),
        cc=("κοιν",),
        wrote=("έγραψε",),
        original=("αρχικό μήνυμα",),
        forwarded=("προωθημένο μήνυμα",),
    ),
    "ro": Language(
        from_=("de la",),
        sent=("trimis", "data"),
        to=("către", "catre"),
        subject=("subiect",),
        wrote=("a scris",),
        original=("mesaj original", "mesajul original"),
        forwarded=("mesaj redirecționat", "mesaj redirecţionat"),
    ),
    "sk": Language(
        from_=("od",),
        sent=("odoslané", "dátum"),
        to=("komu",),
        subject=("predmet",),
        wrote=("napísal", "napísala"),
        original=("pôvodná správa",),
        forwarded=("preposlaná správa",),
    ),
    "hr": Language(
        from_=("šalje", "od"),
        sent=("poslano", "datum"),
        to=("prima", "za"),
        subject=("predmet",),
        wrote=("napisao", "napisala", "je napisao"),
        original=("izvorna poruka", "izvorni e-mail"),
        forwarded=("proslijeđena poruka",),
    ),
    "is": Language(
        from_=("frá",),
        sent=("sent", "dagsetning"),
        to=("til",),
        subject=("efni",),
        wrote=("skrifaði",),
        original=("upprunaleg skilaboð",),
        forwarded=("áframsend skilaboð",),
    ),
    "vi": Language(
        from_=("từ",),
        sent=("đã gửi", "ngày"),
        to=("đến",),
        subject=("chủ đề",),
        wrote=("đã viết",),
        openers=("vào",),
        original=("thư gốc",),
        forwarded=("thư được chuyển tiếp",),
    ),
    "ja": Language(
        from_=("差出人", "送信者"),
        sent=("送信日時", "送信日", "日付"),
        to=("宛先", "宛て先"),
        subject=("件名",),
        cc=("cc",),
        wrote=("のメッセージ", "のメール", "書きました", "書き込みました"),
        original=("元のメッセージ", "元のメール", "オリジナルメッセージ"),
        forwarded=("転送されたメッセージ", "転送メッセージ"),
        mobile=("…から送信",),
    ),
    "zh": Language(
        from_=("发件人", "發件人", "寄件者", "寄件人"),
        sent=("发送时间", "發送時間", "日期", "寄件日期", "发送日期", "时间", "時間"),
        to=("收件人", "收件者"),
        subject=("主题", "主題", "主旨"),
        cc=("抄送", "副本", "抄送人"),
        wrote=("写道", "寫道"),
        openers=("在", "于"),
        original=("原始邮件", "原始郵件", "原始信息"),
        forwarded=("转发的邮件", "以下是转发的邮件", "轉寄的郵件", "开始转发的邮件", "開始轉寄郵件", "转发邮件信息"),
        mobile=("发自我的", "從我的…傳送", "从我的…发送"),
    ),
    "ko": Language(
        from_=("보낸 사람",),
        sent=("보낸 날짜", "날짜"),
        to=("받는 사람",),
        subject=("제목",),
        cc=("참조",),
        wrote=("작성",),
        original=("원본 메시지",),
        forwarded=("전달된 메시지", "전달된 메일"),
        mobile=("…에서 보냄",),
    ),
}

ROLES = ("from", "sent", "to", "subject", "cc")


def _fields(language: Language) -> dict[str, str]:
    roles = (language.from_, language.sent, language.to, language.subject, language.cc)
    return {name: role for role, names in zip(ROLES, roles, strict=True) for name in names}


# Header field name -> {language: role}: "fra" is From in both Bokmål and Danish.
FIELDS: dict[str, dict[str, str]] = {}
for _code, _language in LANGUAGES.items():
    for _name, _role in _fields(_language).items():
        FIELDS.setdefault(lowered(_name), {})[_code] = _role

# Delimiter phrase -> "original" or "forwarded".
DELIMITERS: dict[str, str] = {}
for _language in LANGUAGES.values():
    DELIMITERS.update(dict.fromkeys(map(lowered, _language.original), "original"))
for _language in LANGUAGES.values():
    DELIMITERS.update(dict.fromkeys(map(lowered, _language.forwarded), "forwarded"))


def _words(attribute: str) -> list[str]:
    """Every language's entries for one attribute, longest first (regex alternatives try in order)."""
    seen = {lowered(w) for language in LANGUAGES.values() for w in getattr(language, attribute)}
    return sorted(seen, key=lambda w: (-len(w), w))


WROTE_VERBS = _words("wrote")
OPENERS = _words("openers")
MOBILE_PHRASES = _words("mobile")
SIGN_OFFS = _words("sign_offs")
SENT_FROM = _words("sent_from")
