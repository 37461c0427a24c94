"""Routed edits: each edit's adapter carries a key for what it is about, and a prompt gets only the adapters
whose key it matches; every other prompt runs on the untouched parent.

The key is a list of phrases: the edit's subject (its knowledge source's title, without a leading article),
the subject's last distinctive word (a family name, the name in "Varnel Institute"), and the other distinctive
capitalised words its passage repeats. A word is
distinctive when it has four or more letters and neither common English (the gateway's 10,000-word list) nor the
model's rehearsal corpus (a sample of what the model already knows) uses it, so a key made of them does not fire
on what the model knew. A prompt matches a phrase when the phrase's words occur
in it as a contiguous run of words, case-insensitively.

The gateway applies the same rules (src/adapter-versions/route-key.ts); test/fixtures/route-key-cases.json
holds cases both sides are tested on.
"""
from __future__ import annotations

import json
import os
import re
from typing import Iterable, List, Sequence, Set

_WORD = re.compile(r"[^\W_]+")
_LEADING_ARTICLES = ("the", "a", "an")
MIN_WORD_LENGTH = 4
MAX_KEY_PHRASES = 32  # the subject's first
MAX_PHRASE_LENGTH = 200


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower())


COMMON_ENGLISH = os.path.join(os.path.dirname(__file__), "..", "..", "..", "src", "common", "common-english.json")


def vocabulary(texts: Iterable[str], common_english: str = COMMON_ENGLISH) -> Set[str]:
    """The words a route key may not be made of alone: common English and those of `texts`."""
    with open(common_english, encoding="utf-8") as f:
        out: Set[str] = set(json.load(f)["words"].split())
    for t in texts:
        out.update(words(t))
    return out


def _distinctive(word: str, known: Set[str]) -> bool:
    return len(word) >= MIN_WORD_LENGTH and not word.isdigit() and word not in known


def route_key(title: str, passage: str, known: Set[str]) -> List[str]:
    """The phrases an edit about `title` (taught by `passage`) is routed on."""
    subject = words(title)
    while len(subject) > 1 and subject[0] in _LEADING_ARTICLES:
        subject = subject[1:]
    # A one-word subject that is an ordinary word would fire on everything: it is no key; nor is a subject longer
    # than a phrase may be.
    whole = (len(subject) > 1 or (len(subject) == 1 and _distinctive(subject[0], known))) \
        and len(" ".join(subject)) <= MAX_PHRASE_LENGTH
    phrases: List[str] = [" ".join(subject)] if whole else []
    counts: dict = {}
    for w in _WORD.findall(passage):
        if w[:1].isupper():
            counts[w.lower()] = counts.get(w.lower(), 0) + 1
    # A subject is also named by its last distinctive word: "varnel" of "Varnel Institute", a person's family
    # name. Not by a given name: other subjects share those.
    named_by = [w for w in subject if _distinctive(w, known)]
    extra = named_by[-1:]
    extra += sorted(w for w, n in counts.items() if n >= 2 and _distinctive(w, known) and w not in subject)
    for w in extra:
        if w not in phrases:
            phrases.append(w)
    return phrases[:MAX_KEY_PHRASES]


def key_matches(key: Sequence[str], text: str) -> bool:
    """Whether any phrase of `key` occurs in `text` as a contiguous run of words."""
    have = words(text)
    for phrase in key:
        want = phrase.split()
        n = len(want)
        if n and any(have[i:i + n] == want for i in range(len(have) - n + 1)):
            return True
    return False
