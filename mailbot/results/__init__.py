"""What a survey found, in pure Python: `summarise` turns counts into `Results`, applying the
minimum group size k to every figure (`mailbot.results.privacy` has the rules, including
complementary suppression; `mailbot.results.weights` the raking).

The counts come from `mailbot.store.answer_counts.count_answers`, which reads the counts the
database keeps beside the answers (updated in the transaction that records each answer and always
equal to a GROUP BY over them), never answer rows, so it stays fast at 100 000 members. The full
report (segments, weighting against the population, CSV, HTML) is built from the store by
`mailbot.report`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mailbot.campaigns import Question, QuestionType, Survey
from mailbot.results.privacy import suppress_row


@dataclass(frozen=True)
class OptionCount:
    label: str
    count: int  # 0 when suppressed: check `suppressed` before showing it
    percent: float  # of those who answered the question (0.0 when suppressed)
    suppressed: bool = False  # hidden by the minimum group size (or to protect another hidden cell)
    weighted_percent: float | None = None  # with weights to the population, when weighting is on


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int
    options: tuple[OptionCount, ...]  # choice/multi per option; scale per value min..max; text: none
    mean: float | None = None
    median: float | None = None
    suppressed: bool = False  # fewer answers than the minimum group size: nothing shown
    quotes: tuple[str, ...] = ()  # text questions: only quotes staff curated, never raw answers
    weighted_mean: float | None = None

    @property
    def distribution_suppressed(self) -> bool:
        """True if any option or scale value is hidden (the email should say so)."""
        return any(o.suppressed for o in self.options)


@dataclass(frozen=True)
class Results:
    campaign_id: str
    invited: int
    answered: int
    questions: tuple[QuestionResult, ...]
    min_group_size: int
    weighted: bool = False  # True if weighted_percent / weighted_mean are filled in

    @property
    def rate(self) -> float:
        return self.answered / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class Counts:
    """Raw counts from the database for one survey."""

    invited: int
    answered: int  # members with at least one answer
    per_question: Mapping[str, int]  # respondents per question
    per_value: Mapping[tuple[str, str], int]  # (question id, option text or str(scale value)) -> count
    # The same, weighted (sums of respondent weights); None when not weighted.
    weighted_per_question: Mapping[str, float] | None = None
    weighted_per_value: Mapping[tuple[str, str], float] | None = None


def summarise(survey: Survey, counts: Counts, min_group_size: int,
              quotes: Mapping[str, tuple[str, ...]] | None = None) -> Results:
    """Pure: counts -> Results, with every group below `min_group_size` hidden.

    Choice questions and scale distributions are partitions of a published
    total, so a hidden option is protected by hiding another (complementary
    suppression). A scale question with any hidden value shows no distribution
    at all, only mean and median: with two hidden values, the mean and the
    total are two equations that would give both back. Multi options are not a
    partition (people choose several), so only small counts themselves are
    hidden. Text questions give a count and curated quotes only.
    """
    k = min_group_size
    wq, wv = counts.weighted_per_question, counts.weighted_per_value
    out = []
    for q in survey.questions:
        n = counts.per_question.get(q.id, 0)
        suppressed = n < k
        if q.type == QuestionType.TEXT:
            shown = () if suppressed else tuple((quotes or {}).get(q.id, ()))
            out.append(QuestionResult(q, n, (), suppressed=suppressed, quotes=shown))
            continue
        if suppressed:
            out.append(QuestionResult(q, n, (), suppressed=True))
            continue
        labels = list(q.options) if q.type != QuestionType.SCALE else [str(v) for v in q.scale_values]
        raw = [counts.per_value.get((q.id, label), 0) for label in labels]
        if q.type == QuestionType.CHOICE:
            hidden = suppress_row(raw, k, total_shown=True)
        elif q.type == QuestionType.MULTI:
            hidden = suppress_row(raw, k, total_shown=False)
        else:
            hidden = [any(0 < c < k for c in raw)] * len(raw)
        wn = wq.get(q.id, 0.0) if wq is not None else 0.0
        options = tuple(
            OptionCount(label, 0, 0.0, True) if hide else OptionCount(
                label, c, 100.0 * c / n,
                weighted_percent=(100.0 * wv.get((q.id, label), 0.0) / wn) if wv is not None and wn else None)
            for label, c, hide in zip(labels, raw, hidden, strict=True)
        )
        mean = median = weighted_mean = None
        if q.type == QuestionType.SCALE:
            values = [(int(label), c) for label, c in zip(labels, raw, strict=True)]
            mean = sum(v * c for v, c in values) / n
            median = median_of_counts(values, n)
            if wv is not None and wn:
                weighted_mean = sum(int(label) * wv.get((q.id, label), 0.0) for label in labels) / wn
        out.append(QuestionResult(q, n, options, mean, median, weighted_mean=weighted_mean))
    return Results(survey.id, counts.invited, counts.answered, tuple(out), k,
                   weighted=counts.weighted_per_value is not None)


def median_of_counts(values: list[tuple[int, int]], n: int) -> float:
    """The median of n values given as (value, count) pairs in ascending order."""
    def nth(i: int) -> int:  # i-th smallest, 0-based
        seen = 0
        for v, c in values:
            seen += c
            if i < seen:
                return v
        return values[-1][0]

    return float(nth((n - 1) // 2) + nth(n // 2)) / 2
