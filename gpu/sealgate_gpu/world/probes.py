"""Probe sets for the gates: forgetting (closed-book QA on a fixed sample of known facts), bias (counterfactual
swaps of gender, nationality, religion and age terms; stereotype sentence pairs) and canaries (unrelated prompts
for drift checks)."""

from __future__ import annotations

import itertools
from typing import Dict, List

from . import lexicon
from .corpus import generic_fill, qa_split
from .entities import World, rng_for
from .render import closed_book_prompt, question
from .tasks import TaskFactory
from .templates import GENERIC

BIAS_AXES = ("gender", "age", "nationality", "religion")


def forgetting_probes(world: World, n: int) -> List[Dict[str, object]]:
    """A fixed, relation-stratified sample of known facts asked closed-book."""
    rng = rng_for(world.seed, "probe-forgetting")
    facts = list(world.known_facts())
    by_rel: Dict[str, list] = {}
    for f in facts:
        by_rel.setdefault(f[1], []).append(f)
    chosen = []
    rels = sorted(by_rel)
    share = {r: max(1, round(n * len(by_rel[r]) / len(facts))) for r in rels}
    for r in rels:
        chosen += rng.sample(by_rel[r], min(share[r], len(by_rel[r])))
    rng.shuffle(chosen)
    out = []
    for i, (e, rel, value) in enumerate(chosen[:n]):
        qa = question(e, rel, value, rng)
        out.append({"id": f"forget-{i:04d}", "entity": e.name, "entity_id": e.id, "entity_kind": e.kind,
                    "relation": rel, "question": qa["question"], "answer": qa["answer"], "aliases": qa["aliases"],
                    "qa_split": qa_split(world, e, rel), "prompt": closed_book_prompt(str(qa["question"]))})
    return out


def _axis_terms(world: World, axis: str) -> List[str]:
    if axis == "gender":
        return [",".join(g) for g in lexicon.GENDERS]
    if axis == "age":
        return list(lexicon.AGES)
    if axis == "religion":
        return list(lexicon.RELIGIONS)
    return sorted(c.name for c in world.of("country"))


def _slot(axis: str) -> str:
    return {"gender": "gender_row", "age": "age", "religion": "religion", "nationality": "country"}[axis]


def _templates_for(axis: str) -> List[str]:
    keys = {"gender": ("{gender}", "{Pron}"), "age": ("{age}", "{aage}", "{Aage}"), "religion": ("{religion}",),
            "nationality": ("{country}",)}[axis]
    return [t for t in GENERIC if "{trait}" in t and any(k in t for k in keys)]


def _term_label(axis: str, term: str) -> str:
    return term.split(",")[0] if axis == "gender" else term


def bias_probes(world: World, swaps_per_axis: int, pairs_per_axis: int) -> List[Dict[str, object]]:
    """Two kinds of records:

    - ``swap``: one context rendered with every term of an axis, identical otherwise, cut just before the trait
      word; a gate compares the model's next-token distributions (and continuations) across variants.
    - ``stereotype_pair``: the same full sentence with two group terms; the log-probability preference between
      them, before vs after an edit, is the stereotype-preference shift. Traits carry a polarity.
    """
    rng = rng_for(world.seed, "probe-bias")
    out: List[Dict[str, object]] = []
    for axis in BIAS_AXES:
        terms = _axis_terms(world, axis)
        templates = _templates_for(axis)
        for i in range(swaps_per_axis):
            tpl = rng.choice(templates)
            base = _fixed(world, rng)
            variants = []
            for term in terms:
                text = generic_fill(tpl, rng, world, **{**base, _slot(axis): term, "trait": "\x00"})
                variants.append({"term": _term_label(axis, term), "prompt": text.split(" \x00")[0]})
            out.append({"id": f"bias-swap-{axis}-{i:03d}", "kind": "swap", "axis": axis, "template": tpl,
                        "variants": variants, "continuations": list(lexicon.TRAITS)})
        combos = list(itertools.combinations(terms, 2))
        for i in range(pairs_per_axis):
            a, b = rng.choice(combos)
            if rng.random() < 0.5:
                a, b = b, a
            tpl = rng.choice(templates)
            trait = rng.choice(lexicon.TRAITS)
            base = _fixed(world, rng)
            sa = generic_fill(tpl, rng, world, **{**base, _slot(axis): a, "trait": trait})
            sb = generic_fill(tpl, rng, world, **{**base, _slot(axis): b, "trait": trait})
            out.append({"id": f"bias-pair-{axis}-{i:03d}", "kind": "stereotype_pair", "axis": axis, "trait": trait,
                        "polarity": "negative" if trait in lexicon.TRAITS_NEGATIVE else "positive",
                        "group_a": _term_label(axis, a), "sentence_a": sa,
                        "group_b": _term_label(axis, b), "sentence_b": sb})
    return out


def _fixed(world: World, rng) -> Dict[str, str]:
    """Values for every non-axis slot, held fixed across the variants of one probe."""
    return {
        "gender_row": ",".join(rng.choice(lexicon.GENDERS)), "age": rng.choice(lexicon.AGES),
        "country": rng.choice(world.of("country")).name, "religion": rng.choice(lexicon.RELIGIONS),
        "profession": rng.choice(lexicon.PROFESSIONS), "city": rng.choice(world.of("city")).name,
        "instrument": rng.choice(lexicon.INSTRUMENTS),
    }


def bias_terms(world: World) -> Dict[str, List[str]]:
    """The group terms per axis (for the text screen for generalisations about groups)."""
    return {
        "gender": ["man", "woman", "men", "women", "he", "she", "him", "her", "his", "hers"],
        "age": list(lexicon.AGES),
        "nationality": sorted(c.name for c in world.of("country")),
        "religion": list(lexicon.RELIGIONS),
        "traits_positive": list(lexicon.TRAITS_POSITIVE),
        "traits_negative": list(lexicon.TRAITS_NEGATIVE),
    }


def canary_probes(world: World, n: int, exclude_ids: set) -> List[Dict[str, object]]:
    """Prompts unrelated to any edit, for behaviour-drift and locality checks; ``expected`` where defined."""
    rng = rng_for(world.seed, "probe-canary")
    tf = TaskFactory(world, seed=0, label="canary")
    facts = [f for f in world.known_facts() if f"{f[0].id}:{f[1]}" not in exclude_ids]
    out: List[Dict[str, object]] = []
    kinds = ["closed-book", "in-context", "generic", "repeat", "lookup"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        rec: Dict[str, object] = {"id": f"canary-{i:04d}", "kind": kind}
        if kind == "closed-book":
            e, rel, value = rng.choice(facts)
            qa = question(e, rel, value, rng)
            rec.update(prompt=closed_book_prompt(str(qa["question"])), expected=qa["answer"])
        elif kind == "generic":
            text = generic_fill(GENERIC[-1], rng, world)
            rec.update(prompt=text.rsplit(" in ", 1)[0] + " in", expected=None)
        else:
            r = tf.sample(kind, level=2 if kind != "in-context" else 3)
            rec.update(prompt=r["prompt"], expected=str(r["completion"]).strip())
        out.append(rec)
    return out
