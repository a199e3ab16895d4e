"""Weights by raking (iterative proportional fitting) to population margins.

Respondents fall into cells (age band, gender, district). Raking adjusts one
weight per cell so that, for each dimension in turn, the weighted shares of
the respondents match the population's shares; it repeats until every
dimension matches within a tolerance (Deming and Stephan, 1940). Members
whose value is unknown for a dimension (no birth year, no gender tag) are left
alone by that dimension: the known respondents are fitted to the population
shares within the weight the known respondents carry.

Weights are per respondent and average 1 over all respondents, so weighted
and unweighted counts have the same total. Pure: counts in, weights out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Cell = tuple[str | None, ...]  # one value (or None: unknown) per dimension


class RakingFailed(Exception):
    """The margins cannot be met: a population group with no respondents, or no convergence."""


@dataclass(frozen=True)
class Raking:
    weights: Mapping[Cell, float]  # weight of one respondent in the cell
    iterations: int
    converged: bool
    max_error: float  # largest gap between a weighted share and its target, after the last round


def rake(counts: Mapping[Cell, int], margins: Sequence[Mapping[str, float]], *, max_iterations: int = 100,
         tolerance: float = 1e-9) -> Raking:
    """Weights per cell so the weighted respondents match each dimension's margin (shares or counts)."""
    cells = [c for c, n in counts.items() if n > 0]
    targets = [_shares(m) for m in margins]
    for d, target in enumerate(targets):
        present = {c[d] for c in cells}
        missing = [v for v, share in target.items() if share > 0 and v not in present]
        if missing:
            raise RakingFailed(f"nobody answered in {', '.join(sorted(missing))}: cannot weight to it")
    weight = {c: 1.0 for c in cells}
    error = _max_error(counts, weight, targets)
    iterations = 0
    while error > tolerance and iterations < max_iterations:
        iterations += 1
        for d, target in enumerate(targets):
            known = [c for c in cells if c[d] in target]
            total = sum(counts[c] * weight[c] for c in known)
            by_value: dict[str, float] = {}
            for c in known:
                by_value[c[d] or ""] = by_value.get(c[d] or "", 0.0) + counts[c] * weight[c]
            for c in known:
                weight[c] *= target[c[d] or ""] * total / by_value[c[d] or ""]
        error = _max_error(counts, weight, targets)
    n = sum(counts[c] for c in cells)
    mean = sum(counts[c] * weight[c] for c in cells) / n if n else 1.0
    return Raking({c: w / mean for c, w in weight.items()}, iterations, error <= tolerance, error)


def _shares(margin: Mapping[str, float]) -> dict[str, float]:
    total = sum(margin.values())
    if total <= 0:
        raise RakingFailed("a margin adds up to nothing")
    return {v: x / total for v, x in margin.items()}


def _max_error(counts: Mapping[Cell, int], weight: Mapping[Cell, float],
               targets: list[dict[str, float]]) -> float:
    worst = 0.0
    for d, target in enumerate(targets):
        sums: dict[str, float] = {}
        for c, w in weight.items():
            if c[d] in target:
                sums[c[d] or ""] = sums.get(c[d] or "", 0.0) + counts[c] * w
        total = sum(sums.values())
        if total:
            worst = max(worst, *(abs(sums.get(v, 0.0) / total - share) for v, share in target.items()))
    return worst
