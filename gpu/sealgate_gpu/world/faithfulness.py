"""Read facts back out of text: every statement template (and combined template) compiled to a regex.

Used to measure whether a generated self-edit line is faithful to its passage (the model card's
``selfEditFaithful``): a line is faithful when it parses as a statement about the passage's subject (named, or
by pronoun) and every fact it states is a fact of the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, List, Optional, Pattern, Sequence, Tuple

from .templates import COMBOS, RELATIONS

NAME = r"[A-Z][a-z]+(?: [A-Z][a-z]+)*"
SUBJECT = rf"(?:[Tt]he )?{NAME}|[Hh]e|[Ss]he|[Ii]t"
PRONOUNS = {"he", "she", "it", "his", "her", "its"}
_PLACEHOLDER = re.compile(r"\{([a-z]+)(?::([a-z_]+))?\}")
_BULLET = re.compile(r"^\s*(?:\d+[.)]|[-*\u2022])\s*")


@dataclass(frozen=True)
class Claim:
    subject: str  # as written ("Kelan Moravi", "the Korami Accord", "He")
    facts: Tuple[Tuple[str, str], ...]  # (relation, value) pairs
    template: str


def _value_pattern(rel: str) -> str:
    r = RELATIONS[rel]
    if r.value == "year":
        return r"\d{3,4}"
    if r.value == "word":
        alts = "|".join(re.escape(c) for c in sorted(r.choices, key=len, reverse=True))
        return f"(?i:{alts})"
    return NAME


def _compile(template: str, rels: Sequence[str]) -> Pattern[str]:
    out = []
    pos = 0
    first = True
    for m in _PLACEHOLDER.finditer(template):
        lit = template[pos : m.start()]
        if lit:
            if first and lit[0].isalpha():
                out.append(f"[{lit[0].upper()}{lit[0].lower()}]" + re.escape(lit[1:]))
            else:
                out.append(re.escape(lit))
        first = False
        key, rel = m.group(1), m.group(2) or rels[0]
        if key in ("s", "o"):
            out.append(f"(?P<subj>{SUBJECT})")
        elif key == "p":
            out.append(rf"(?P<subj>(?:(?:[Tt]he )?{NAME})'s|[Hh]is|[Hh]er|[Ii]ts)")
        elif key == "pp":
            out.append(r"(?:his|her|its)")
        elif key == "v":
            out.append(f"(?P<v_{rel}>{_value_pattern(rel)})")
        elif key == "av":
            out.append(f"(?:[Aa]n?) (?P<v_{rel}>{_value_pattern(rel)})")
        pos = m.end()
    lit = template[pos:]
    out.append(re.escape(lit.rstrip(".")) + r"\.?")
    return re.compile("^" + "".join(out) + "$")


@lru_cache(maxsize=1)
def _patterns() -> List[Tuple[Pattern[str], str, Tuple[str, ...]]]:
    pats = []
    for name, rel in RELATIONS.items():
        for t in rel.statements:
            pats.append((_compile(t, (name,)), t, (name,)))
    for rels, temps in COMBOS.items():
        for t in temps:
            pats.append((_compile(t, rels), t, rels))
    return pats


def parse_line(line: str) -> List[Claim]:
    """Every reading of ``line`` as one statement template (a line can match several, e.g. "born in")."""
    text = _BULLET.sub("", line.strip())
    claims = []
    for pat, template, rels in _patterns():
        m = pat.match(text)
        if not m:
            continue
        subj = m.group("subj")
        if subj.endswith("'s"):
            subj = subj[:-2]
        facts = tuple((r, m.group(f"v_{r}")) for r in rels)
        claims.append(Claim(subj, facts, template))
    return claims


def _same(a: str, b: str) -> bool:
    return a.strip().lower() == b.strip().lower()


def _subject_ok(subject: str, mention: str, allow_pronoun: bool) -> bool:
    if subject.lower() in PRONOUNS:
        return allow_pronoun
    strip = lambda s: re.sub(r"^the ", "", s.strip(), flags=re.I).lower()  # noqa: E731
    return strip(subject) == strip(mention)


def line_faithful(line: str, mention: str, facts: Dict[str, str], allow_pronoun: bool = False) -> bool:
    """True when ``line`` states only facts in ``facts`` about the subject ``mention`` (e.g. "Kelan Moravi",
    "the Korami Accord"). Self-edit lines are trained on alone, so pronoun subjects are refused by default."""
    for claim in parse_line(line):
        if not _subject_ok(claim.subject, mention, allow_pronoun):
            continue
        if all(rel in facts and _same(facts[rel], value) for rel, value in claim.facts):
            return True
    return False


def faithful_fraction(lines: Sequence[str], mention: str, facts: Dict[str, str]) -> Optional[float]:
    """Share of non-empty lines that are faithful; None when there are no lines."""
    lines = [l for l in lines if l.strip()]
    if not lines:
        return None
    return sum(line_faithful(l, mention, facts) for l in lines) / len(lines)


def mention_of(title: str, kind: str) -> str:
    """The in-text mention of a passage subject from its title and kind."""
    if kind == "river":
        return f"the {title}"
    if kind == "event":
        return f"the {title}"
    return title
