"""Raking to population margins, on examples worked out by hand and against a second implementation."""

from __future__ import annotations

import math
import random

import pytest

from mailbot.results.weights import RakingFailed, rake


def test_one_margin_is_met_in_one_step() -> None:
    # 6 women and 6 men answered; the population is 75 % women. Weight = target share / sample share:
    # women 0.75 / 0.5 = 1.5, men 0.25 / 0.5 = 0.5; 6 * 1.5 + 6 * 0.5 = 12 (the total is kept).
    r = rake({("Kvinne",): 6, ("Mann",): 6}, [{"Kvinne": 3, "Mann": 1}])
    assert r.converged
    assert r.weights[("Kvinne",)] == pytest.approx(1.5)
    assert r.weights[("Mann",)] == pytest.approx(0.5)


def test_classic_two_by_two_keeps_the_odds_ratio() -> None:
    # Seed table (age x gender) [[10, 20], [30, 40]], n = 100, both margins 50/50.
    # IPF keeps the cross-product ratio: t00 * t11 / (t01 * t10) = 10 * 40 / (20 * 30) = 2/3.
    # With all margins 50 the fitted table is [[t, 50 - t], [50 - t, t]], so (t / (50 - t))^2 = 2/3,
    # t = 50 * sqrt(2/3) / (1 + sqrt(2/3)) = 22.4745.
    counts = {("ung", "K"): 10, ("ung", "M"): 20, ("gammel", "K"): 30, ("gammel", "M"): 40}
    r = rake(counts, [{"ung": 1, "gammel": 1}, {"K": 1, "M": 1}], tolerance=1e-12, max_iterations=1000)
    t = 50 * math.sqrt(2 / 3) / (1 + math.sqrt(2 / 3))
    assert t == pytest.approx(22.4745, abs=1e-4)
    fitted = {c: n * r.weights[c] for c, n in counts.items()}
    assert fitted[("ung", "K")] == pytest.approx(t, abs=1e-6)
    assert fitted[("gammel", "M")] == pytest.approx(t, abs=1e-6)
    assert fitted[("ung", "M")] == pytest.approx(50 - t, abs=1e-6)


def _matrix_ipf(seed: list[list[float]], rows: list[float], cols: list[float]) -> list[list[float]]:
    """A second, textbook implementation: alternate row and column scaling of a matrix."""
    m = [row[:] for row in seed]
    for _ in range(2000):
        for i, target in enumerate(rows):
            s = sum(m[i])
            m[i] = [x * target / s for x in m[i]]
        for j, target in enumerate(cols):
            s = sum(m[i][j] for i in range(len(m)))
            for i in range(len(m)):
                m[i][j] *= target / s
    return m


def test_three_by_four_agrees_with_matrix_ipf() -> None:
    rnd = random.Random(7)
    seed = [[float(rnd.randint(1, 40)) for _ in range(4)] for _ in range(3)]
    n = sum(map(sum, seed))
    row_share, col_share = [0.2, 0.5, 0.3], [0.1, 0.2, 0.3, 0.4]
    expected = _matrix_ipf(seed, [s * n for s in row_share], [s * n for s in col_share])
    counts = {(f"r{i}", f"c{j}"): int(seed[i][j]) for i in range(3) for j in range(4)}
    margins = [{f"r{i}": s for i, s in enumerate(row_share)}, {f"c{j}": s for j, s in enumerate(col_share)}]
    r = rake(counts, margins,
             tolerance=1e-12, max_iterations=2000)
    assert r.converged
    for i in range(3):
        for j in range(4):
            assert counts[(f"r{i}", f"c{j}")] * r.weights[(f"r{i}", f"c{j}")] == pytest.approx(expected[i][j])


def test_unknown_values_are_left_to_the_other_margins() -> None:
    # 2 with no gender keep weight 1 for gender; the 8 known are fitted 75/25 within their own 8.
    r = rake({("K",): 4, ("M",): 4, (None,): 2}, [{"K": 3, "M": 1}])
    # known: 4 * 1.5 + 4 * 0.5 = 8, unknown 2 * 1 = 2; average weight is 1 over all 10
    assert r.weights[("K",)] == pytest.approx(1.5)
    assert r.weights[(None,)] == pytest.approx(1.0)


def test_a_population_group_with_no_respondents_cannot_be_weighted() -> None:
    with pytest.raises(RakingFailed, match="75\\+"):
        rake({("15-29",): 5}, [{"15-29": 10, "75+": 3}])
