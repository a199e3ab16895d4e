"""The words that carry a reply's meaning beyond its options: yes and no, not and except, maybe.

Each cue is a phrase of folded words (see `vocabulary.fold`) in Bokmål, Nynorsk and English,
matched on word boundaries by `find_phrases`. They are grouped by what they do to the answer
next to them, not by language: a resident mixes "ja" and "not really" in one line.
"""

from __future__ import annotations

from functools import lru_cache

from mailbot.reading.vocabulary import fold


def _phrases(*texts: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(fold(t).split()) for t in texts if fold(t))


# Agreement: maps to the option that says yes ("Ja", "Ja, alltid", "Yes").
YES = _phrases(
    "ja", "jo", "jepp", "japp", "jada", "ja da", "javisst", "ja visst", "absolutt", "definitivt", "selvfølgelig",
    "sjølvsagt", "sjølvsagt", "helt klart", "klart", "gjerne", "ja takk", "ja gjerne", "jaa", "jah", "yes", "yep",
    "yeah", "yup", "sure", "of course", "definitely", "absolutely", "certainly", "indeed", "jepp", "jovisst",
    "utvilsomt", "ubetinget", "avgjort", "bestemt",
)
NO = _phrases(
    "nei", "nope", "no", "niks", "neida", "nei da", "nei takk", "no thanks", "not at all", "absolutt ikke",
    "definitivt ikke", "slett ikke", "overhodet ikke", "på ingen måte", "ikke i det hele tatt", "neppe",
    "not really", "nah", "nei nei", "ikkje", "ikke", "never", "aldri", "not", "definitely not",
)
DONT_KNOW = _phrases(
    "vet ikke", "veit ikke", "vet ikkje", "veit ikkje", "vet ikke helt", "veit ikkje heilt", "usikker",
    "ikke sikker", "ikkje sikker", "er usikker", "aner ikke", "aner ikkje", "har ingen formening",
    "ingen formening", "ingen mening", "har ingen mening", "vet ei", "tja", "vanskelig å si", "vanskeleg å seie",
    "vanskelig å svare på", "kan ikke svare", "dont know", "don't know", "do not know", "not sure", "unsure",
    "no idea", "hard to say", "no opinion", "have no opinion", "ikke godt å si", "ikkje godt å seie",
    "vanskelig å si", "vanskeleg å seie", "vanskeleg å seia", "vanskelig å svare", "vanskeleg å svare",
)
# A word that turns the option (or the question's statement) after it into its opposite.
NEGATORS = _phrases(
    "ikke", "ikkje", "ikkje", "ei", "not", "no", "never", "aldri", "nei til", "no to", "uten", "utan",
    "without", "unntatt", "untatt", "unntak", "bortsett fra", "bortsett frå", "utenom", "utanom", "except",
    "except for", "apart from", "other than", "but not", "men ikke", "men ikkje", "heller ikke",
    "heller ikkje", "not even", "minus", "ingen", "ikke noe", "ikkje noko", "none", "verken", "hverken",
    "dropp", "droppe", "drop", "skip", "slipp", "ikkje bruk for", "ikke bruk for", "no need for",
    "not so much", "not much", "not really", "less so", "ikke så mye", "ikkje så mykje", "ikke så mange",
    "ikkje så mange", "mindre",
    # English contractions, as folded ("haven't" is "havent")
    "havent", "hasnt", "hadnt", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "werent", "cant", "cannot",
    "wont", "wouldnt", "shouldnt", "neither", "nor",
)
# A statement after an option that rejects it: "bøker har biblioteket allerede".
REJECTING = _phrases(
    "allerede", "allereie", "finnes det nok av", "finst det nok av", "finnes nok av", "er det nok av",
    "har vi nok av", "har nok", "nok av", "trengs ikke", "trengst ikkje", "trenger ikke", "treng ikkje",
    "trengs ikkje", "er unødvendig", "er unødvendige", "unødvendig", "not needed", "no need", "is not needed",
    "are not needed", "we have enough", "already", "plenty of", "enough of", "kan droppes", "kan sløyfes",
    "er ikke viktig", "er ikkje viktig", "er ikke nødvendig", "interesserer meg ikke", "interesserer meg ikkje",
    "bryr meg ikke om", "ikke interessert", "ikkje interessert", "not interested",
    "ikke noe for meg", "ikkje noko for meg", "not for me", "ingen vits", "ikke vits", "ikkje vits", "no point",
    "ikke aktuelt", "ikkje aktuelt", "not relevant", "liker ikke", "likar ikkje", "don't like", "dont like",
    # after the verb, as Norwegian puts it ("teaterscene trenger vi ikke"), and English afterthoughts
    "trenger vi ikke", "treng vi ikkje", "trenger jeg ikke", "treng eg ikkje", "behøver vi ikke",
    "er ikke så viktig", "er ikkje så viktig", "er mindre viktig", "less important", "not important",
    "not so much", "not really", "don't need", "dont need", "do not need",
    # "Høyere parkeringsavgift er det siste jeg vil ha"
    "er det siste jeg vil ha", "er det siste eg vil ha", "det siste vi trenger", "det siste me treng",
    "the last thing i want", "the last thing we need",
    # "Billettprisen er grei nok": not what stands in the way
    "er grei nok", "er greit nok", "er grei nok for meg", "ikke noe problem", "ikkje noko problem", "not a problem",
    "no problem", "is not a problem", "er ikke et problem", "er ikkje eit problem",
)
# Hedges: the answer is meant, but a careful reader would like to hear it confirmed.
HEDGES = _phrases(
    "tror", "trur", "tror jeg", "trur eg", "kanskje", "kanskje det", "muligens", "mulig", "kanhende",
    "kan hende", "vel", "nok", "antakelig", "antagelig", "sannsynligvis", "truleg", "trolig", "vil tro",
    "vil tru", "tenker", "tenkjer", "mener", "meiner", "om jeg må velge", "hvis jeg må velge", "om eg må velje",
    "dersom eg må velje", "vel egentlig", "i think", "think", "guess", "i guess", "maybe", "perhaps",
    "probably", "i suppose", "suppose", "i'd say", "id say", "would say", "if i have to choose", "if i must",
    "helst", "heller", "rather", "preferably", "sort of", "kind of", "liksom", "på en måte",
    "vil jeg si", "vil eg seie", "vil eg si", "skal jeg si", "vil jeg tro", "vil eg tru", "i would say",
)
# Quantifiers for several options at once.
ALL = _phrases(
    "alle", "alle sammen", "allesammen", "alle saman", "alt", "alt sammen", "altsammen", "alt saman",
    "alle fem", "alle seks", "alle sju", "alle alternativene", "alle alternativa", "alle alternativ", "samtlige",
    "all", "all of them", "all of the above", "everything", "every one", "all five", "heile", "hele",
    "hele lista", "heile lista", "alle disse", "alle desse", "alt sammen takk", "alle tingene",
)
NONE = _phrases(
    "ingen", "ingen av dem", "ingen av delene", "ingen av disse", "ingen av desse", "ingenting", "none",
    "none of them", "none of the above", "nothing", "ikke noe", "ikkje noko", "ikke noen", "ikkje nokon",
)
# Words that join items of a list, and words that end an answer clause.
JOINERS = frozenset({"og", "and", "samt", "pluss", "plus", "eller", "or", "o", "&", "+", "også", "og så", "ogsa",
                     "dessuten", "etc", "osv", "med", "og og"})
CLAUSE_BREAKS = frozenset(fold(w) for w in {"men", "but", "mens", "while", "though", "although", "selv om", "sjøl om",
                           "fordi", "because", "siden", "since", "så", "so", "derfor"})
# A change of mind: what follows replaces what came before (mailbot.reading.vocabulary.CORRECTION).
CORRECTIONS = _phrases(
    "forresten", "nei vent", "vent litt", "vent", "rettelse", "retting", "korreksjon", "endrer", "endre svaret",
    "endrar", "ombestemt", "ombestemte", "skal være", "skulle være", "skal vere", "skulle vore", "mente",
    "meinte", "jeg mener", "eg meiner", "correction", "actually", "i meant", "i mean", "changed my mind",
    "change that", "change my answer", "on second thought", "på andre tanker", "angrer", "angrar", "feil",
    "sorry", "beklager", "oops", "oi", "glem det", "gløym det", "scratch that", "rather", "heller",
)
# The middle of an odd scale, said in words.
# Not having chosen between the options named: "B or D, can't decide".
UNDECIDED = _phrases(
    "can't decide", "cant decide", "cannot decide", "can not decide", "not sure which", "undecided",
    "klarer ikke å bestemme meg", "klarer ikkje å bestemme meg", "kan ikke bestemme meg", "kan ikkje bestemme meg",
    "klarer ikke å velge", "klarer ikkje å velje", "vet ikke hvilken", "veit ikkje kva", "usikker på hvilken",
    "usikker", "vanskelig å velge", "vanskeleg å velje", "hard to choose", "hard to say", "torn between",
)
SCALE_MIDDLE = _phrases(
    "middels", "midt på treet", "midt imellom", "midt i mellom", "midt mellom", "nøytral", "nøytralt",
    "verken eller", "verken fornøyd eller misfornøyd", "hverken eller", "så som så", "sånn passe", "sann passe",
    "passe", "medium", "average", "neutral", "in the middle", "middling", "so so", "so-so", "halvveis",
    "både og", "baade og", "midt på", "i midten", "gjennomsnittlig", "somewhere in the middle", "middle",
    "somewhere in between", "in between",
)
# Words after a number that make it a count of something, not a value on the scale.
COUNTED = frozenset(fold(w) for w in (
    "barn", "born", "år", "aar", "ar", "years", "year", "måneder", "månader", "months", "uker", "veker", "weeks",
    "dager", "dagar", "days", "timer", "hours", "minutter", "minutes", "min", "km", "kilometer", "meter", "m",
    "kr", "kroner", "prosent", "percent", "%", "ganger", "gonger", "times", "personer", "people",
    "stk", "hus", "bilder", "biler", "bilar", "cars", "poser", "sekker", "bags", "flasker", "bottles",
    "kilo", "kg", "liter", "etasje", "etg", "klasse", "trinn", "generasjoner", "barnebarn", "hunder",
    "katter", "dogs", "ukers", "minutters", "timers", "desember", "januar", "februar", "mars", "april", "mai",
    "juni", "juli", "august", "september", "oktober", "november", "des", "jan", "feb", "okt", "nov",
) if fold(w))
# Words before a number that make it a value ("jeg gir 4", "terningkast 5", "score: 7").
RATING_LEADS = frozenset(fold(w) for w in (
    "gir", "gi", "gjev", "gjer", "setter", "set", "sette", "svarer", "svarar", "svar", "karakter", "terningkast",
    "terning", "score", "rating", "rate", "give", "giving", "say", "si", "sier", "seier", "velger", "vel",
    "choose", "pick", "blir", "becomes", "nummer", "nr", "tallet", "talet", "number", "poeng", "points",
    "landar", "lander", "havner", "hamnar", "ender", "endar", "går", "for", "på", "til", "med", "an",
) if fold(w))
# Words for the scale's ends, beyond the question's own labels.
SCALE_TOP = _phrases("full pott", "topp", "toppkarakter", "top marks", "best", "maks", "max", "maksimalt",
                     "maksimum", "høyest", "høgast", "highest")
SCALE_BOTTOM = _phrases("bunnkarakter", "lavest", "lågast", "lowest", "minimum", "minst", "verst", "worst",
                        "dårligst", "dårlegast")
# Greetings, thanks and other words that answer nothing.
CHATTER = _phrases(
    "hei", "hallo", "heisann", "hei hei", "god dag", "hi", "hello", "dear", "takk", "tusen takk", "takk for",
    "thanks", "thank you", "mvh", "hilsen", "helsing", "her er svarene mine", "her er mine svar",
    "her er svara mine", "her kommer svarene", "svarene mine", "mine svar", "my answers", "here are my answers",
    "ha en fin dag", "god helg", "ha det", "lykke til", "good luck", "regards", "best regards",
    "warm regards", "kind regards", "best wishes", "med vennlig hilsen", "vennlig hilsen", "venleg helsing",
    "beste hilsen", "hilsen fra", "cheers", "best", "all the best", "sincerely", "yours",
    "beklager dårlig norsk", "beklager mitt dårlige norsk", "beklager dårleg norsk", "sorry for my bad norwegian",
    "sorry for bad norwegian", "sorry for my english", "sorry for bad english", "beklager skrivefeil",
)
# A remark about the survey itself ("Dei andre spørsmåla hoppar eg over", "No ideas for the last one,
# sorry"): words for the questions, and words for skipping them or saying sorry for it.
SURVEY_WORDS = _phrases(
    "spørsmål", "spørsmålet", "spørsmåla", "spørsmålene", "question", "questions", "the last one", "the rest",
    "den siste", "det siste", "resten", "undersøkelsen", "undersøkinga", "survey", "skjemaet", "the form",
)
SKIPPING = _phrases(
    "hopper over", "hoppar over", "hopper jeg over", "hoppar eg over", "skip", "skipping", "sorry", "beklager",
    "orsak", "no ideas", "ingen ideer", "ingen idear", "vet for lite", "veit for lite", "know too little",
    "kan ikke svare", "kan ikkje svare", "can't answer", "cant answer", "svarer ikke på", "svarar ikkje på",
)
# Declining the whole survey, not answering its first question "no".
DECLINE = _phrases("nei takk", "nei tusen takk", "no thanks", "no thank you", "nei takk ellers", "nei ellers takk")
# "Se svarene under": the answers are elsewhere (typed into the original, under the questions).
POINTERS = _phrases(
    "se svar", "se svarene", "se svara", "se mine svar", "sjå svar", "sjå svara", "svarene står", "svara står",
    "svar under", "svar nedenfor", "svarene under", "svara under", "svarer under", "svarar under",
    "see answers", "see my answers", "answers below", "answers are below", "see below", "answered below",
    "answers inline", "se nedenfor", "se under", "svarene mine står", "i rødt", "i raudt", "in red",
)
# "Jeg har skrevet svarene inn i e-posten nedenfor": a word for the answers and one for where they are.
ANSWER_WORDS = frozenset(fold(w) for w in (
    "svar", "svarene", "svara", "svart", "svarte", "svarer", "svarar", "svaret", "answers", "answer", "answered",
    "replies", "replied",
))
WHERE_WORDS = frozenset(fold(w) for w in (
    "under", "nedenfor", "nedanfor", "nede", "below", "inline", "beneath", "underneath", "inni", "inne", "within",
    "mellom", "between",
))


@lru_cache(maxsize=64)
def _index(group: frozenset[tuple[str, ...]]) -> dict[str, tuple[tuple[str, ...], ...]]:
    by_first: dict[str, list[tuple[str, ...]]] = {}
    for phrase in group:
        by_first.setdefault(phrase[0], []).append(phrase)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_first.items()}


def find_phrases(words: list[str], group: frozenset[tuple[str, ...]]) -> list[tuple[int, int]]:
    """(start, end) word spans of the phrases of `group` in folded `words`, longest first, not overlapping."""
    index = _index(group)
    spans = []
    i = 0
    while i < len(words):
        for phrase in index.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                spans.append((i, i + len(phrase)))
                i += len(phrase)
                break
        else:
            i += 1
    return spans


def has_phrase(words: list[str], group: frozenset[tuple[str, ...]]) -> bool:
    return bool(find_phrases(words, group))
