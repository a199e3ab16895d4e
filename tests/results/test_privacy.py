"""The minimum group size k: primary and complementary suppression (pure)."""

from __future__ import annotations

from mailbot.results.privacy import suppress_row, suppress_table


def test_counts_below_k_are_hidden_and_zero_is_shown() -> None:
    # total 30 + 0: only 3 and 2 are below 5; together 5 >= 5, two cells: safe
    assert suppress_row([20, 3, 2, 5, 0], 5) == [False, True, True, False, False]


def test_a_single_hidden_cell_takes_the_smallest_other_with_it() -> None:
    # total 35 shown: hiding only the 2 gives 35 - 20 - 6 - 7 = 2 back; the smallest other (6) goes too
    assert suppress_row([20, 2, 6, 7], 5) == [False, True, True, False]


def test_hidden_cells_that_add_up_to_a_small_group_take_another() -> None:
    # 1 + 2 = 3 < 5: the hidden pair is still a small group, so 6 is hidden as well (1 + 2 + 6 = 9)
    assert suppress_row([20, 1, 2, 6], 5) == [False, True, True, True]


def test_without_a_published_total_only_small_counts_are_hidden() -> None:
    assert suppress_row([20, 2, 6, 7], 5, total_shown=False) == [False, True, False, False]


def test_subtraction_attack_on_a_table_finds_nothing() -> None:
    # Respondents by age band (rows) and district (columns), with row and column totals published.
    cells = [
        [12, 3, 9],   # 15-44
        [10, 8, 11],  # 45-74
    ]
    hidden = suppress_table(cells, 5)
    # 3 is hidden; its row needs a second hidden cell (9, the smallest other), and then both columns
    # have one hidden cell each, so 8 (below 3) and 11 (below 9) go as well.
    assert hidden == [[False, True, True], [False, True, True]]
    # The attack: every row and column with a hidden cell has at least two, adding up to k or more.
    rows = [[(r, c) for c in range(3)] for r in range(2)]
    cols = [[(r, c) for r in range(2)] for c in range(3)]
    for line in rows + cols:
        h = [cells[r][c] for r, c in line if hidden[r][c]]
        assert not h or (len(h) >= 2 and sum(h) >= 5)


def test_one_small_cell_alone_in_a_row_of_zeros_hides_the_row() -> None:
    # total 3 shown: nothing but zeros to hide with; all cells go (the total is below k anyway)
    assert suppress_row([3, 0, 0], 5) == [True, True, True]
