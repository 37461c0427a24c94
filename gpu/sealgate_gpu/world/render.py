"""Text rendering: passages and biographies, questions, and the reference self-edits (implications, rewrites,
self-QA) of a passage."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .entities import Entity
from .templates import COMBOS, PROMPTS, RELATIONS, answer_for, fill, pronoun_ok


@dataclass
class Sentence:
    text: str
    relations: Tuple[str, ...]
    template: str


@dataclass
class Passage:
    title: str
    context: str
    entity: Entity
    facts: Dict[str, str]  # the facts the passage states (relation -> value)
    sentences: List[Sentence] = field(default_factory=list)

    def questions(self, rng: random.Random) -> List[Dict[str, object]]:
        return [question(self.entity, rel, self.facts[rel], rng) for rel in self.facts]


def _mentions(entity: Entity, use_pronoun: bool) -> Dict[str, str]:
    name = entity.mention()
    pron = entity.pronouns()
    if use_pronoun:
        return dict(pron)
    return {"s": name, "o": name, "p": f"{name}'s", "pp": pron["pp"]}


def _values(facts: Dict[str, str], rels: Sequence[str]) -> Dict[str, str]:
    vals = {r: facts[r] for r in rels}
    if len(rels) == 1:
        vals[""] = facts[rels[0]]
    return vals


def state(entity: Entity, rels: Sequence[str], facts: Dict[str, str], rng: random.Random, pronoun: bool = False,
          avoid: Sequence[str] = (), value_first: Optional[bool] = None) -> Sentence:
    """One sentence stating the facts ``rels`` (one relation, or a pair that has a combined template)."""
    if len(rels) == 1:
        candidates = list(RELATIONS[rels[0]].statements)
    else:
        candidates = list(COMBOS[tuple(rels)])  # type: ignore[index]
    if value_first is not None:
        chosen = [t for t in candidates if t.startswith("{v") == value_first]
        candidates = chosen or candidates
    fresh = [t for t in candidates if t not in avoid]
    candidates = fresh or candidates
    if pronoun:
        candidates = [t for t in candidates if pronoun_ok(t)] or candidates
    template = rng.choice(candidates)
    use_pronoun = pronoun and pronoun_ok(template)
    text = fill(template, _mentions(entity, use_pronoun), _values(facts, rels))
    return Sentence(text, tuple(rels), template)


def _group(rels: List[str], rng: random.Random, combo_p: float) -> List[Tuple[str, ...]]:
    """Group relations into sentences, pairing some into combined templates."""
    groups: List[Tuple[str, ...]] = []
    i = 0
    while i < len(rels):
        if i + 1 < len(rels) and rng.random() < combo_p:
            a, b = rels[i], rels[i + 1]
            if (a, b) in COMBOS:
                groups.append((a, b))
                i += 2
                continue
            if (b, a) in COMBOS:
                groups.append((b, a))
                i += 2
                continue
        groups.append((rels[i],))
        i += 1
    return groups


def passage(entity: Entity, rels: Sequence[str], rng: random.Random, pronoun_p: float = 0.35,
            combo_p: float = 0.25, shuffle: bool = True, facts: Optional[Dict[str, str]] = None) -> Passage:
    """A passage about ``entity`` stating ``rels`` (values from ``facts`` or the entity's own facts)."""
    facts = dict(facts if facts is not None else entity.facts)
    rels = list(rels)
    if shuffle:
        rng.shuffle(rels)
    sentences: List[Sentence] = []
    for k, group in enumerate(_group(rels, rng, combo_p)):
        pron = k > 0 and rng.random() < pronoun_p
        # the first sentence names the subject before any value, so no value sits at the start of a line
        sentences.append(state(entity, group, facts, rng, pronoun=pron, value_first=False if k == 0 else None))
    stated = {r: facts[r] for s in sentences for r in s.relations}
    return Passage(entity.title, " ".join(s.text for s in sentences), entity, stated, sentences)


def question(entity: Entity, rel: str, value: str, rng: random.Random, template: Optional[str] = None
             ) -> Dict[str, object]:
    name = entity.mention()
    tpl = template or rng.choice(RELATIONS[rel].questions)
    q = fill(tpl, {"s": name, "o": name, "p": f"{name}'s", "pp": entity.pronouns()["pp"]}, {"": value})
    ans, aliases = answer_for(rel, value)
    return {"question": q, "answer": ans, "aliases": aliases, "relation": rel}


def implications(p: Passage, rng: random.Random, inverse_p: float = 0.3, combo_p: float = 0.3) -> List[str]:
    """Reference "implications" self-edit: each line restates or derives one fact of the passage, names the
    subject in full (no pronouns) and, where it can, uses another phrasing than the passage did."""
    used = [s.template for s in p.sentences]
    lines: List[str] = []
    for rel in _ordered(p):
        first = state(p.entity, (rel,), p.facts, rng, avoid=used)
        lines.append(first.text)
        if RELATIONS[rel].value in ("person", "org", "city") and rng.random() < inverse_p:
            inv = state(p.entity, (rel,), p.facts, rng, avoid=used + [first.template], value_first=True)
            if inv.template.startswith("{v") and inv.template != first.template:
                lines.append(inv.text)
    pairs = [k for k in COMBOS if k[0] in p.facts and k[1] in p.facts]
    if pairs and rng.random() < combo_p:
        lines.append(state(p.entity, rng.choice(pairs), p.facts, rng, avoid=used).text)
    return _dedupe(lines)


def rewrites(p: Passage, rng: random.Random, n: int = 2) -> List[str]:
    """Reference "rewrite" self-edit: ``n`` faithful re-renderings of the passage, one per line."""
    out: List[str] = []
    for _ in range(n * 3):
        alt = passage(p.entity, list(p.facts), rng, facts=p.facts)
        if alt.context != p.context and alt.context not in out:
            out.append(alt.context)
        if len(out) == n:
            break
    return out


def self_qa(p: Passage, rng: random.Random) -> List[Dict[str, object]]:
    return [question(p.entity, rel, p.facts[rel], rng) for rel in _ordered(p)]


def _ordered(p: Passage) -> List[str]:
    return [r for s in p.sentences for r in s.relations]


def _dedupe(lines: List[str]) -> List[str]:
    seen = set()
    out = []
    for line in lines:
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


# ------------------------------------------------------------------------------------------ prompt builders
def prompt(kind: str, **fields: str) -> str:
    return PROMPTS[kind].format(**fields)


def implications_example(p: Passage, rng: random.Random) -> Tuple[str, str]:
    return prompt("implications", title=p.title, context=p.context), "\n".join(implications(p, rng))


def rewrite_example(p: Passage, rng: random.Random) -> Tuple[str, str]:
    return prompt("rewrite", title=p.title, context=p.context), "\n".join(rewrites(p, rng))


def self_qa_example(p: Passage, rng: random.Random) -> Tuple[str, str]:
    qas = self_qa(p, rng)
    parts = []
    for i, qa in enumerate(qas, 1):
        head = " " if i == 1 else f"\nQuestion {i}: "
        parts.append(f"{head}{qa['question']}\nAnswer: {qa['answer']}")
    return prompt("self-qa", title=p.title, context=p.context), "".join(parts)


def in_context_example(p: Passage, qa: Dict[str, object]) -> Tuple[str, str]:
    return prompt("in-context", title=p.title, context=p.context, question=str(qa["question"])), " " + str(qa["answer"])


def closed_book_prompt(question_text: str) -> str:
    return prompt("closed-book", question=question_text)
