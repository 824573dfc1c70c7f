"""The text diff of two captures, by sentence (Chinese sentences end in 。！？ without a
space), each change marked by a sign and a word as well as by colour."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from archiver.web.segment import sentences


@dataclass(frozen=True)
class Line:
    kind: str  # "same", "removed", "added"
    text: str

    @property
    def sign(self) -> str:
        return {"same": " ", "removed": "−", "added": "+"}[self.kind]


def compare(before: str, after: str) -> list[Line]:
    old, new = sentences(before), sentences(after)
    lines: list[Line] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            lines += [Line("same", s) for s in old[i1:i2]]
            continue
        lines += [Line("removed", s) for s in old[i1:i2]]
        lines += [Line("added", s) for s in new[j1:j2]]
    return lines
