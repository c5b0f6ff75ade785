"""Did-you-mean, once, with bounded work: the closest known name to a word, or None.

difflib.get_close_matches compares a word with every choice by SequenceMatcher.ratio, whose
cost grows with both lengths; 4,000 unknown names against 1,000 flags took minutes (issue 13).
Here a word longer than MAX_WORD gets no suggestion, choices too different in length to reach
the cutoff are skipped (a lossless bound), and only the TOP choices by the cheap quick_ratio
get the full ratio, so one hint costs O(choices) small steps. Pure: no I/O, no state.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from difflib import SequenceMatcher

MAX_WORD = 64  # characters: a longer word is not a misspelt name
TOP = 8  # choices that get the full ratio
CUTOFF = 0.6  # as difflib.get_close_matches


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like `word` (ratio >= CUTOFF), or None."""
    n = len(word)
    if not n or n > MAX_WORD:
        return None
    matcher = SequenceMatcher()
    matcher.set_seq2(word)
    scored = []
    for choice in choices:
        m = len(choice)
        # ratio = 2M / (n + m) with M <= min(n, m): below the cutoff whatever the letters
        if 2 * min(n, m) < CUTOFF * (n + m):
            continue
        matcher.set_seq1(choice)
        quick = matcher.real_quick_ratio() >= CUTOFF and matcher.quick_ratio()
        if quick and quick >= CUTOFF:
            scored.append((quick, choice))
    best: tuple[float, str] | None = None
    for _, choice in heapq.nlargest(TOP, scored):
        matcher.set_seq1(choice)
        ratio = matcher.ratio()
        if ratio >= CUTOFF and (best is None or ratio > best[0]):
            best = (ratio, choice)
    return best[1] if best else None


def did_you_mean(word: str, choices: Iterable[str], *, then: str = "", otherwise: str = "") -> str:
    """The hint for a word that is not a known name, in one phrasing for every message.

    "did you mean 'x'?" when a choice is close, followed by `then` (said either way), or
    `otherwise` when none is close.
    """
    return hint_for(closest(word, choices), then=then, otherwise=otherwise)


def hint_for(close: str | None, *, then: str = "", otherwise: str = "") -> str:
    """did_you_mean's phrasing for a suggestion already found (by a budgeted Suggester)."""
    if close is None:
        return then or otherwise
    return f"did you mean '{close}'?" + (f" {then}" if then else "")


class Suggester:
    """`closest` over fixed choices, with a budget for a whole file (issue 13).

    Each word costs one step per choice; once `budget` steps are spent, words get no
    suggestion, so the hints of one file cost at most `budget` small steps whatever its size.
    Repeated words are answered from a memo.
    """

    def __init__(self, choices: Iterable[str], budget: int = 400_000) -> None:
        self.choices = list(choices)
        self.budget = budget
        self._memo: dict[str, str | None] = {}

    def closest(self, word: str) -> str | None:
        """The choice most like `word`, or None (also once the budget is spent)."""
        if word in self._memo:
            return self._memo[word]
        if self.budget < len(self.choices):
            return None
        self.budget -= len(self.choices)
        found = self._memo[word] = closest(word, self.choices)
        return found
