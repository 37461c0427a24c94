"""Training tasks that teach in-context skills on FRESH names (names that are neither known nor held out, drawn
anew for every example so they cannot be memorised), a copy curriculum, and counterfactual passages about known
entities that force reading over recall.

``TaskFactory`` is also the streaming API for a trainer that wants unlimited fresh examples::

    tf = TaskFactory(world, seed=123)
    rec = tf.sample("in-context", level=3)   # {"prompt": ..., "completion": ..., ...}
"""

from __future__ import annotations

from typing import Dict, List, Optional

from . import lexicon
from .entities import Entity, World, rng_for
from .names import NameFactory
from .render import (Passage, implications, in_context_example, passage, prompt, question, rewrite_example,
                     self_qa_example)
from .templates import RELATIONS, RELATIONS_BY_KIND

TASK_KINDS = ("in-context", "implications", "rewrite", "self-qa", "repeat", "lookup")
FRESH_KINDS = ("person", "org", "city", "event")
FRESH_MIX = (0.5, 0.2, 0.15, 0.15)


class TaskFactory:
    def __init__(self, world: World, seed: int, label: str = "tasks", fresh_value_p: float = 0.4) -> None:
        self.world = world
        self.rng = rng_for(world.seed, f"{label}:{seed}")
        self.names = NameFactory(self.rng, set(world.taken), world.forbidden)
        self.fresh_value_p = fresh_value_p
        self.cities = world.of("city")
        self.orgs = world.of("org")
        self.people = world.of("person")
        self.countries = world.of("country")
        self.rivers = world.of("river")
        self.counter = 0

    # ------------------------------------------------------------------------------------------ fresh names
    def _word(self, lo: int = 2, hi: int = 3) -> str:
        return self.names.word(lo, hi, reserve=False)

    def fresh_name(self, kind: str) -> str:
        if kind == "person":
            return f"{self._word(2, 2)} {self._word(2, 3)}"
        if kind == "org":
            return f"{self._word()} {self.rng.choice(lexicon.ORG_SUFFIXES)}"
        if kind == "event":
            return f"{self._word()} {self.rng.choice(lexicon.EVENT_KINDS)}"
        return self._word()

    def _value(self, kind: str) -> str:
        """A known entity's name, or (with probability fresh_value_p) a fresh one."""
        fresh = self.rng.random() < self.fresh_value_p
        if kind == "city":
            return self.fresh_name("city") if fresh else self.rng.choice(self.cities).name
        if kind == "org":
            return self.fresh_name("org") if fresh else self.rng.choice(self.orgs).name
        if kind == "person":
            return self.fresh_name("person") if fresh else self.rng.choice(self.people).name
        if kind == "country":
            return self._word() if fresh else self.rng.choice(self.countries).name
        if kind == "river":
            return self._word(2, 2) if fresh else self.rng.choice(self.rivers).name
        raise KeyError(kind)

    def fresh_entity(self, kind: Optional[str] = None) -> Entity:
        rng = self.rng
        kind = kind or rng.choices(FRESH_KINDS, FRESH_MIX)[0]
        self.counter += 1
        e = Entity(f"fresh-{kind}:{self.counter}", kind, self.fresh_name(kind), "fresh")
        f = e.facts
        if kind == "person":
            e.gender = rng.choice(("man", "woman"))
            f["birth_year"] = str(rng.randint(1840, 2000))
            f["birth_city"] = self._value("city")
            known_city = self.world.by_name.get(f["birth_city"])
            f["nationality"] = known_city.facts["country"] if known_city else self._value("country")
            f["profession"] = rng.choice(lexicon.PROFESSIONS)
            f["employer"] = self._value("org")
            f["favourite_colour"] = rng.choice(lexicon.COLOURS)
            f["instrument"] = rng.choice(lexicon.INSTRUMENTS)
        elif kind == "org":
            f["founded_year"] = str(rng.randint(1885, 2015))
            f["headquarters"] = self._value("city")
            industry = rng.choice(sorted(lexicon.INDUSTRIES))
            f["industry"] = industry
            f["product"] = rng.choice(lexicon.INDUSTRIES[industry])
            f["founder"] = self._value("person")
        elif kind == "city":
            f["country"] = self._value("country")
            f["river"] = self._value("river")
            f["city_founded"] = str(rng.randint(1150, 1890))
            f["landmark"] = rng.choice(lexicon.LANDMARKS)
            f["mayor"] = self._value("person")
        elif kind == "event":
            f["event_year"] = str(rng.randint(1890, 2020))
            f["event_city"] = self._value("city")
            f["organiser"] = self._value("org")
            f["leader"] = self._value("person")
        return e

    def fresh_passage(self, n_min: int, n_max: int, kind: Optional[str] = None) -> Passage:
        e = self.fresh_entity(kind)
        rels = RELATIONS_BY_KIND[e.kind]
        n = self.rng.randint(min(n_min, len(rels)), min(n_max, len(rels)))
        return passage(e, self.rng.sample(rels, n), self.rng)

    # ------------------------------------------------------------------------------------------ tasks
    def _record(self, task: str, level: int, prompt_text: str, completion: str, p: Optional[Passage] = None,
                **extra: object) -> Dict[str, object]:
        rec: Dict[str, object] = {"task": task, "level": level}
        if p is not None:
            rec.update({"title": p.title, "passage": p.context, "entity_kind": p.entity.kind,
                        "facts": p.facts, "name_words": p.entity.name_words})
        rec.update(extra)
        rec["prompt"] = prompt_text
        rec["completion"] = completion
        return rec

    LEVEL_FACTS = {1: (1, 1), 2: (2, 3), 3: (3, 6)}

    def in_context(self, level: int = 3) -> Dict[str, object]:
        p = self.fresh_passage(*self.LEVEL_FACTS[level])
        rel = self.rng.choice(list(p.facts))
        qa = question(p.entity, rel, p.facts[rel], self.rng)
        pr, comp = in_context_example(p, qa)
        return self._record("in-context", level, pr, comp, p, question=qa["question"], answer=qa["answer"],
                            aliases=qa["aliases"], relation=rel)

    def implications(self, level: int = 3) -> Dict[str, object]:
        p = self.fresh_passage(*self.LEVEL_FACTS[level])
        lines = implications(p, self.rng)
        return self._record("implications", level, prompt("implications", title=p.title, context=p.context),
                            "\n".join(lines), p, lines=lines)

    def rewrite(self, level: int = 3) -> Dict[str, object]:
        p = self.fresh_passage(*self.LEVEL_FACTS[max(level, 2)])
        pr, comp = rewrite_example(p, self.rng)
        return self._record("rewrite", level, pr, comp, p)

    def self_qa(self, level: int = 3) -> Dict[str, object]:
        p = self.fresh_passage(*self.LEVEL_FACTS[level])
        pr, comp = self_qa_example(p, self.rng)
        return self._record("self-qa", level, pr, comp, p)

    def repeat(self, level: int = 1) -> Dict[str, object]:
        if level == 1:
            text = self.fresh_name(self.rng.choice(FRESH_KINDS))
        else:
            p = self.fresh_passage(1, 1) if level == 2 else self.fresh_passage(2, 3)
            text = p.context
        return self._record("repeat", level, prompt("repeat", text=text), text)

    LOOKUP_SIZES = {1: 2, 2: 4, 3: 8}

    def lookup(self, level: int = 1) -> Dict[str, object]:
        rng = self.rng
        n = self.LOOKUP_SIZES[level]
        keys: List[str] = []
        while len(keys) < n:
            k = self._word(2, 3)
            if k not in keys:
                keys.append(k)
        pools = {
            "colour": lambda: rng.choice(lexicon.COLOURS),
            "year": lambda: str(rng.randint(1700, 2029)),
            "name": lambda: self._word(2, 3),
            "profession": lambda: rng.choice(lexicon.PROFESSIONS),
            "instrument": lambda: rng.choice(lexicon.INSTRUMENTS),
            "city": lambda: self._value("city"),
        }
        kinds = sorted(pools)
        one = rng.choice(kinds)
        values = [pools[one if rng.random() < 0.7 else rng.choice(kinds)]() for _ in keys]
        j = rng.randrange(n)
        pairs = "\n".join(f"- {k}: {v}" for k, v in zip(keys, values))
        return self._record("lookup", level, prompt("lookup", pairs=pairs, key=keys[j]), " " + values[j],
                            answer=values[j], name_words=keys)

    def sample(self, task: str, level: int = 3) -> Dict[str, object]:
        fn = {"in-context": self.in_context, "implications": self.implications, "rewrite": self.rewrite,
              "self-qa": self.self_qa, "repeat": self.repeat, "lookup": self.lookup}[task]
        return fn(level)


# ---------------------------------------------------------------------------------------------- counterfactuals
def counterfactual_passages(world: World, n: int, seed: int, eval_fraction: float = 0.15
                            ) -> List[Dict[str, object]]:
    """Passages about KNOWN entities in which 1-2 facts contradict what pretraining taught, one record per
    passage with a question per fact; ``counterfactual`` marks questions whose in-context answer differs from
    the memorised one. ``in_context_pairs`` turns a record into (prompt, completion) pairs."""
    rng = rng_for(world.seed, f"counterfactual:{seed}")
    subjects = [e for e in world.entities.values() if e.split == "known" and e.kind in FRESH_KINDS]
    eval_ids = set(e.id for e in rng.sample(subjects, int(len(subjects) * eval_fraction)))
    pools = _value_pools(world)
    out: List[Dict[str, object]] = []
    for i in range(n):
        e = rng.choice(subjects)
        rels = RELATIONS_BY_KIND[e.kind]
        k = rng.randint(3, min(5, len(rels)))
        chosen = rng.sample(rels, k)
        changed = rng.sample(chosen, rng.randint(1, 2))
        facts = dict(e.facts)
        for rel in changed:
            vtype = RELATIONS[rel].value
            if vtype == "year":
                facts[rel] = str(int(e.facts[rel]) + rng.choice((-1, 1)) * rng.randint(3, 60))
                continue
            options = [v for v in pools[vtype if vtype != "word" else rel] if v != e.facts[rel]]
            facts[rel] = rng.choice(options)
        p = passage(e, chosen, rng, facts=facts)
        questions = []
        for rel in p.facts:
            qa = question(e, rel, p.facts[rel], rng)
            qa["counterfactual"] = rel in changed
            qa["memorised_answer"] = question(e, rel, e.facts[rel], rng)["answer"]
            questions.append(qa)
        out.append({
            "id": f"cf-{i:05d}", "split": "eval" if e.id in eval_ids else "train", "entity": e.name,
            "entity_id": e.id, "entity_kind": e.kind, "title": p.title, "passage": p.context, "facts": p.facts,
            "changed": {rel: {"memorised": e.facts[rel], "passage": facts[rel]} for rel in changed},
            "questions": questions,
        })
    return out


def in_context_pairs(record: Dict[str, object]) -> List[Dict[str, object]]:
    """(prompt, completion) pairs of a passage record with questions (counterfactual or held-out)."""
    out = []
    for qa in record["questions"]:  # type: ignore[union-attr]
        pr = prompt("in-context", title=str(record["title"]), context=str(record["passage"]),
                    question=str(qa["question"]))
        out.append({**qa, "prompt": pr, "completion": " " + str(qa["answer"])})
    return out


def _value_pools(world: World) -> Dict[str, List[str]]:
    pools: Dict[str, List[str]] = {
        "city": [e.name for e in world.of("city")],
        "country": [e.name for e in world.of("country")],
        "org": [e.name for e in world.of("org")],
        "person": [e.name for e in world.of("person")],
        "river": [e.name for e in world.of("river")],
        "sea": list(world.seas),
    }
    for name, rel in RELATIONS.items():
        if rel.value == "word":
            pools[name] = list(rel.choices)
    return pools
