"""Side-by-side diff rows for two config texts (pure; the page renders the rows)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff. ``kind``: equal, delete, insert, replace or skip
    (a run of unchanged lines left out, ``left_text`` says how many)."""

    kind: str
    left_no: int | None
    left_text: str
    right_no: int | None
    right_text: str


def side_by_side(old: str, new: str, *, context: int = 3) -> list[DiffRow]:
    """Rows pairing old and new lines; unchanged runs longer than ``2 * context`` lines are
    folded into one ``skip`` row."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            span = i2 - i1
            keep_head = context if rows else 0
            keep_tail = context if i2 < len(a) or j2 < len(b) else 0
            if span > keep_head + keep_tail + 1:
                for k in range(keep_head):
                    rows.append(DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]))
                hidden = span - keep_head - keep_tail
                rows.append(DiffRow("skip", None, f"{hidden} unchanged lines", None, ""))
                for k in range(span - keep_tail, span):
                    rows.append(DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]))
            else:
                for k in range(span):
                    rows.append(DiffRow("equal", i1 + k + 1, a[i1 + k], j1 + k + 1, b[j1 + k]))
            continue
        left = list(range(i1, i2))
        right = list(range(j1, j2))
        for k in range(max(len(left), len(right))):
            li = left[k] if k < len(left) else None
            ri = right[k] if k < len(right) else None
            kind = (
                "replace"
                if li is not None and ri is not None
                else ("delete" if li is not None else "insert")
            )
            rows.append(
                DiffRow(
                    kind,
                    li + 1 if li is not None else None,
                    a[li] if li is not None else "",
                    ri + 1 if ri is not None else None,
                    b[ri] if ri is not None else "",
                )
            )
    return rows


def diff_stats(rows: list[DiffRow]) -> dict[str, int]:
    added = sum(1 for r in rows if r.kind in ("insert", "replace") and r.right_no)
    removed = sum(1 for r in rows if r.kind in ("delete", "replace") and r.left_no)
    return {"added": added, "removed": removed}
