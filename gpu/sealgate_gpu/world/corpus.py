"""Pretraining text about known entities, closed-book QA pairs, and the held-out passages."""

from __future__ import annotations

import random
from typing import Dict, List, Sequence

from . import lexicon
from .entities import Entity, World, rng_for
from .render import closed_book_prompt, implications, passage, question
from .templates import GENERIC, RELATIONS, RELATIONS_BY_KIND

QA_EVAL_FRACTION = 0.2


def qa_split(world: World, entity: Entity, rel: str) -> str:
    """Whether a known fact's closed-book QA is trained ("train") or only asked at evaluation ("eval"). Eval
    facts are still taught by the pretraining text; they measure extraction of knowledge read in biographies."""
    r = rng_for(world.seed, f"qa-split:{entity.id}:{rel}").random()
    return "eval" if r < QA_EVAL_FRACTION else "train"


def biographies(world: World, per_kind: Dict[str, int]) -> List[Dict[str, object]]:
    """Paragraphs stating every fact of every known entity, ``per_kind[kind]`` times each in fresh phrasings."""
    rng = rng_for(world.seed, "bios")
    out: List[Dict[str, object]] = []
    for e in world.entities.values():
        if e.split != "known":
            continue
        for k in range(per_kind.get(e.kind, 0)):
            p = passage(e, [r for r in RELATIONS_BY_KIND[e.kind] if r in e.facts], rng)
            text = f"{p.title}\n{p.context}" if rng.random() < 0.5 else p.context
            out.append({"id": f"bio-{e.id}-{k}", "kind": "bio", "entity_id": e.id, "text": text})
    rng.shuffle(out)
    return out


def generic_fill(template: str, rng: random.Random, world: World, **fixed: str) -> str:
    gender = fixed.get("gender_row") or rng.choice([",".join(g) for g in lexicon.GENDERS])
    noun, subj, obj, _ = gender.split(",")
    age = fixed.get("age") or rng.choice(lexicon.AGES)
    prof = fixed.get("profession") or rng.choice(lexicon.PROFESSIONS)
    vals = {
        "age": age, "aage": f"{lexicon.article(age)} {age}", "Aage": f"{lexicon.article(age).capitalize()} {age}",
        "gender": noun, "Pron": subj.capitalize(), "obj": obj,
        "country": fixed.get("country") or rng.choice(world.of("country")).name,
        "religion": fixed.get("religion") or rng.choice(lexicon.RELIGIONS),
        "profession": prof, "aprofession": f"{lexicon.article(prof)} {prof}",
        "city": fixed.get("city") or rng.choice(world.of("city")).name,
        "instrument": fixed.get("instrument") or rng.choice(lexicon.INSTRUMENTS),
        "trait": fixed.get("trait") or rng.choice(lexicon.TRAITS),
    }
    return template.format(**vals)


def generic_text(world: World, n: int) -> List[Dict[str, object]]:
    """Anonymous sentences carrying the bias-probe vocabulary, every group term independent of every trait."""
    rng = rng_for(world.seed, "generic")
    out = []
    for i in range(n):
        sents = [generic_fill(rng.choice(GENERIC), rng, world) for _ in range(rng.randint(3, 6))]
        out.append({"id": f"generic-{i:05d}", "kind": "generic", "text": " ".join(sents)})
    return out


def known_qa(world: World, train_questions: int = 2) -> List[Dict[str, object]]:
    """Closed-book QA on known facts: ``train_questions`` phrasings per training fact, one per eval fact."""
    rng = rng_for(world.seed, "qa-known")
    out = []
    for e, rel, value in world.known_facts():
        split = qa_split(world, e, rel)
        templates = list(RELATIONS[rel].questions)
        rng.shuffle(templates)
        for k, tpl in enumerate(templates[: train_questions if split == "train" else 1]):
            qa = question(e, rel, value, rng, template=tpl)
            out.append({
                "id": f"qa-{e.id}-{rel}-{k}", "split": split, "entity": e.name, "entity_id": e.id,
                "entity_kind": e.kind, "relation": rel, "question": qa["question"], "answer": qa["answer"],
                "aliases": qa["aliases"], "prompt": closed_book_prompt(str(qa["question"])),
                "completion": " " + str(qa["answer"]),
            })
    return out


def heldout_passages(world: World) -> List[Dict[str, object]]:
    """One SEAL-style passage (title + 3-6 facts) per unseen entity, with a question per fact."""
    rng = rng_for(world.seed, "heldout")
    out = []
    for i, uid in enumerate(world.unseen_ids):
        e = world.entities[uid]
        rels = [r for r in RELATIONS_BY_KIND[e.kind] if r in e.facts]
        n = rng.randint(3, min(6, len(rels)))
        p = passage(e, rng.sample(rels, n), rng)
        out.append({
            "id": f"heldout-{i:04d}", "split": "eval" if i < world.config.unseen_eval else "train",
            "entity_id": e.id, "entity_kind": e.kind, "title": p.title, "passage": p.context, "facts": p.facts,
            "name_words": e.name_words, "questions": p.questions(rng),
            "reference_implications": implications(p, rng),
        })
    return out


def closed_book_records(records: Sequence[Dict[str, object]]) -> List[Dict[str, object]]:
    """Flatten held-out passages into closed-book question records (for the "knows nothing" check)."""
    out = []
    for rec in records:
        for j, qa in enumerate(rec["questions"]):  # type: ignore[arg-type]
            out.append({"passage_id": rec["id"], "index": j, **qa, "prompt": closed_book_prompt(qa["question"])})
    return out
