"""Syllable phonology of the world's names.

Every name word is a sequence of syllables ``onset + nucleus [+ coda]`` with a single-consonant onset, and its
first syllable is open (no coda), so a word parses into syllables in exactly one way (maximal onset: a consonant followed by a vowel starts a
syllable, any other consonant closes the previous one). The tokenizer gives every syllable its own token and
never merges two syllables, so a name the model has never seen is made of the same pieces as the names it has.
"""

from __future__ import annotations

import random
from typing import Iterable, List, Optional, Sequence, Set

ONSETS: Sequence[str] = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z")
NUCLEI: Sequence[str] = ("a", "e", "i", "o", "u", "ai", "ou")
CODAS: Sequence[str] = ("n", "r", "l", "s")
VOWELS = frozenset("aeiou")


def all_syllables() -> List[str]:
    """Every lower-case syllable, in a fixed order."""
    out = []
    for onset in ONSETS:
        for nucleus in NUCLEI:
            out.append(onset + nucleus)
            for coda in CODAS:
                out.append(onset + nucleus + coda)
    return out


SYLLABLES: Sequence[str] = tuple(all_syllables())
_SYLLABLE_SET = frozenset(SYLLABLES)


def syllabify(word: str) -> Optional[List[str]]:
    """Split a name word into its syllables (case kept), or None when it is not a well-formed name word."""
    low = word.lower()
    n = len(low)
    i = 0
    out: List[str] = []
    while i < n:
        if low[i] not in ONSETS or i + 1 >= n or low[i + 1] not in VOWELS:
            return None
        j = i + 2
        # nucleus: one vowel, or one of the diphthongs
        if j < n and low[j] in VOWELS:
            if low[i + 1 : j + 1] in NUCLEI:
                j += 1
            else:
                return None
        # coda: a consonant not followed by a vowel (never in the first syllable)
        if j < n and low[j] not in VOWELS and (j + 1 >= n or low[j + 1] not in VOWELS):
            if low[j] not in CODAS or i == 0:
                return None
            j += 1
        syl = low[i:j]
        if syl not in _SYLLABLE_SET:
            return None
        out.append(word[i:j])
        i = j
    return out or None


def is_name_word(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and syllabify(word) is not None


class NameFactory:
    """Draws name words from syllables, never returning a word in ``taken`` (which it extends).

    ``taken`` holds lower-case words; pass a shared set to keep several factories disjoint.
    """

    def __init__(self, rng: random.Random, taken: Set[str], forbidden: Iterable[str] = ()) -> None:
        self.rng = rng
        self.taken = taken
        self.forbidden = {w.lower() for w in forbidden}

    def _draw(self, n_syllables: int, coda_p: float) -> str:
        parts = []
        for k in range(n_syllables):
            syl = self.rng.choice(ONSETS) + self.rng.choice(NUCLEI)
            last = k == n_syllables - 1
            if k > 0 and self.rng.random() < (coda_p if last else coda_p / 3):
                syl += self.rng.choice(CODAS)
            parts.append(syl)
        return "".join(parts)

    def word(self, min_syl: int = 2, max_syl: int = 3, coda_p: float = 0.35, reserve: bool = True) -> str:
        """A fresh capitalised name word of ``min_syl..max_syl`` syllables."""
        for _ in range(10000):
            n = self.rng.randint(min_syl, max_syl)
            low = self._draw(n, coda_p)
            if low in self.taken or low in self.forbidden or len(low) < 3:
                continue
            if reserve:
                self.taken.add(low)
            return low[0].upper() + low[1:]
        raise RuntimeError("name space exhausted")
