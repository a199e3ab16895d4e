"""Which counts may be shown: the minimum group size k, with complementary suppression.

Primary suppression hides every count from 1 to k-1 (a zero names nobody and
is shown). That alone is not enough when totals are published: with one
hidden cell in a row whose total is shown, the hidden count is the total
minus the others. So every row and column (that has a published total) with
hidden cells must hide at least two, and the hidden cells together must add
up to k or more, otherwise their sum is itself a small group. Extra cells are
taken smallest first (least information lost), and the rule is applied to rows
and columns again until nothing changes, because hiding a cell for a row can
leave its column with a single hidden cell.

Everything here is pure: counts in, a mask of hidden cells out.
"""

from __future__ import annotations

from collections.abc import Sequence

Mask = list[list[bool]]


def suppress_table(cells: Sequence[Sequence[int]], k: int, *, row_totals: bool = True,
                   col_totals: bool = True) -> Mask:
    """Hidden cells of a table of counts; rows/columns whose totals are published are protected."""
    hidden = [[0 < c < k for c in row] for row in cells]
    lines: list[list[tuple[int, int]]] = []
    if row_totals:
        lines += [[(r, c) for c in range(len(row))] for r, row in enumerate(cells)]
    if col_totals and cells:
        width = max(len(row) for row in cells)
        lines += [[(r, c) for r in range(len(cells)) if c < len(cells[r])] for c in range(width)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            while _exposed(line, cells, hidden, k):
                pick = _smallest_visible(line, cells, hidden)
                if pick is None:
                    break
                hidden[pick[0]][pick[1]] = True
                changed = True
    return hidden


def suppress_row(counts: Sequence[int], k: int, *, total_shown: bool = True) -> list[bool]:
    """Hidden cells of one row of counts (a partition of a total that is shown, or not)."""
    return suppress_table([list(counts)], k, row_totals=total_shown, col_totals=False)[0]


def _exposed(line: list[tuple[int, int]], cells: Sequence[Sequence[int]], hidden: Mask, k: int) -> bool:
    """True if the hidden cells of this line could be worked out, or add up to a small group."""
    hidden_cells = [(r, c) for r, c in line if hidden[r][c]]
    if not hidden_cells:
        return False
    total_hidden = sum(cells[r][c] for r, c in hidden_cells)
    return len(hidden_cells) == 1 or 0 < total_hidden < k


def _smallest_visible(line: list[tuple[int, int]], cells: Sequence[Sequence[int]],
                      hidden: Mask) -> tuple[int, int] | None:
    # Prefer a non-zero cell: hiding a zero next to a single small cell protects nothing
    # if the reader can guess the zero; a real count makes the pair ambiguous.
    visible = [(r, c) for r, c in line if not hidden[r][c]]
    if not visible:
        return None
    nonzero = [p for p in visible if cells[p[0]][p[1]] > 0]
    return min(nonzero or visible, key=lambda p: (cells[p[0]][p[1]], p))
