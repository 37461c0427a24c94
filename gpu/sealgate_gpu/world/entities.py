"""The seeded world: known entities (taught in pretraining) and unseen entities (the held-out "new knowledge").

Everything is drawn from ``random.Random`` instances seeded by strings derived from the world seed, so a world is
a pure function of (seed, config), independent of PYTHONHASHSEED and of the order other parts are generated in.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterable, List, Optional, Set

from . import lexicon
from .names import NameFactory
from .templates import RELATIONS, template_words

KINDS = ("person", "org", "city", "country", "river", "event")


@dataclass
class Entity:
    id: str
    kind: str
    name: str  # display name: "Kelan Moravi", "Moravi Works", "Dosu", "Velmar", "Tamu", "Korami Accord"
    split: str  # known | unseen | fresh
    facts: Dict[str, str] = field(default_factory=dict)  # relation -> value as written in text
    gender: Optional[str] = None  # "man" | "woman" for people

    @property
    def name_words(self) -> List[str]:
        """The syllable-built words of the name (suffixes such as "Works" or "Accord" excluded)."""
        if self.kind in ("org", "event"):
            return self.name.split()[:-1]
        return self.name.split()

    @property
    def title(self) -> str:
        return f"{self.name} River" if self.kind == "river" else self.name

    def mention(self) -> str:
        if self.kind == "river":
            return f"the {self.name} River"
        if self.kind == "event":
            return f"the {self.name}"
        return self.name

    def pronouns(self) -> Dict[str, str]:
        if self.kind == "person":
            return {"s": "he", "o": "him", "p": "his", "pp": "his"} if self.gender == "man" else {
                "s": "she", "o": "her", "p": "her", "pp": "her"}
        return {"s": "it", "o": "it", "p": "its", "pp": "its"}

    def to_json(self) -> Dict[str, object]:
        d = asdict(self)
        d["title"] = self.title
        d["name_words"] = self.name_words
        return d


@dataclass(frozen=True)
class WorldConfig:
    countries: int = 16
    rivers: int = 24
    seas: int = 6
    cities: int = 120
    orgs: int = 150
    people: int = 600
    events: int = 80
    first_names_known: int = 220
    first_names_unseen: int = 120
    unseen_eval: int = 300  # held-out passages for evaluation (SEAL experiment 1, continual updates)
    unseen_train: int = 200  # held-out passages for ReST-EM rounds (never in pretraining either)
    unseen_mix: Dict[str, float] = field(
        default_factory=lambda: {"person": 0.55, "org": 0.2, "city": 0.12, "event": 0.13})


def rng_for(seed: int, label: str) -> random.Random:
    return random.Random(f"sealgate-world:{seed}:{label}")


class World:
    """Known and unseen entities, and the shared name space that keeps every split's names disjoint."""

    def __init__(self, seed: int, config: WorldConfig = WorldConfig()) -> None:
        self.seed = seed
        self.config = config
        self.entities: Dict[str, Entity] = {}
        self.by_name: Dict[str, Entity] = {}
        self.taken: Set[str] = set()  # every reserved name word, lower case
        self.forbidden = set(template_words()) | set(lexicon.AVOID_WORDS)
        self.seas: List[str] = []
        self._build_known()
        self._build_unseen()

    # ------------------------------------------------------------------------------------------ helpers
    def _add(self, e: Entity) -> Entity:
        assert e.id not in self.entities and e.name not in self.by_name, e.name
        self.entities[e.id] = e
        self.by_name[e.name] = e
        return e

    def of(self, kind: str, split: str = "known") -> List[Entity]:
        return [e for e in self.entities.values() if e.kind == kind and e.split == split]

    def names(self, split: str) -> Set[str]:
        return {e.name for e in self.entities.values() if e.split == split}

    def name_words(self, split: str) -> Set[str]:
        """Name words of a split. Known languages, currencies and seas count as known name words."""
        out = {w for e in self.entities.values() if e.split == split for w in e.name_words}
        if split == "known":
            out |= set(self.seas)
            for c in self.of("country"):
                out |= {c.facts["language"], c.facts["currency"]}
        return out

    def _factory(self, label: str) -> NameFactory:
        return NameFactory(rng_for(self.seed, "names:" + label), self.taken, self.forbidden)

    # ------------------------------------------------------------------------------------------ known world
    def _build_known(self) -> None:
        cfg = self.config
        rng = rng_for(self.seed, "known")
        nf = self._factory("known")
        self.seas = [nf.word(2, 2) for _ in range(cfg.seas)]
        countries = []
        for i in range(cfg.countries):
            c = Entity(f"country:{i:03d}", "country", nf.word(2, 3), "known")
            c.facts["language"] = nf.word(2, 3)
            c.facts["currency"] = nf.word(2, 2)
            countries.append(self._add(c))
        rivers = []
        for i in range(cfg.rivers):
            r = Entity(f"river:{i:03d}", "river", nf.word(2, 2), "known")
            r.facts["river_country"] = (countries[i].name if i < len(countries) else rng.choice(countries).name)
            r.facts["sea"] = rng.choice(self.seas)
            rivers.append(self._add(r))
        cities = []
        for i in range(cfg.cities):
            country = countries[i] if i < len(countries) else rng.choice(countries)
            c = Entity(f"city:{i:03d}", "city", nf.word(2, 3), "known")
            c.facts["country"] = country.name
            local = [r for r in rivers if r.facts["river_country"] == country.name]
            c.facts["river"] = rng.choice(local).name
            c.facts["city_founded"] = str(rng.randint(1150, 1890))
            c.facts["landmark"] = rng.choice(lexicon.LANDMARKS)
            cities.append(self._add(c))
        for country in countries:
            country.facts["capital"] = rng.choice([c for c in cities if c.facts["country"] == country.name]).name
        orgs = []
        for i in range(cfg.orgs):
            o = Entity(f"org:{i:03d}", "org", f"{nf.word(2, 3)} {rng.choice(lexicon.ORG_SUFFIXES)}", "known")
            o.facts["founded_year"] = str(rng.randint(1885, 2015))
            o.facts["headquarters"] = rng.choice(cities).name
            industry = rng.choice(sorted(lexicon.INDUSTRIES))
            o.facts["industry"] = industry
            o.facts["product"] = rng.choice(lexicon.INDUSTRIES[industry])
            orgs.append(self._add(o))
        first_names = [nf.word(2, 2, coda_p=0.4) for _ in range(cfg.first_names_known)]
        people = [self._add(self._person(f"person:{i:04d}", "known", rng, nf, first_names, cities, orgs))
                  for i in range(cfg.people)]
        for o in orgs:
            o.facts["founder"] = self._pick_person(rng, people, int(o.facts["founded_year"]) - 70,
                                                   int(o.facts["founded_year"]) - 20).name
        mayors = rng.sample(people, min(len(cities), len(people)))
        for c, m in zip(cities, mayors):
            c.facts["mayor"] = m.name
        for i in range(cfg.events):
            self._add(self._event(f"event:{i:03d}", "known", rng, nf, cities, orgs, people))

    def _person(self, pid: str, split: str, rng: random.Random, nf: NameFactory, first_names: List[str],
                cities: List[Entity], orgs: List[Entity]) -> Entity:
        p = Entity(pid, "person", f"{rng.choice(first_names)} {nf.word(2, 3)}", split,
                   gender=rng.choice(("man", "woman")))
        year = rng.randint(1840, 2000)
        city = rng.choice(cities)
        p.facts["birth_year"] = str(year)
        p.facts["birth_city"] = city.name
        p.facts["nationality"] = city.facts["country"] if "country" in city.facts else rng.choice(
            self.of("country")).name
        p.facts["profession"] = rng.choice(lexicon.PROFESSIONS)
        fitting = [o for o in orgs if int(o.facts["founded_year"]) <= year + 50]
        p.facts["employer"] = (rng.choice(fitting) if fitting else min(
            orgs, key=lambda o: int(o.facts["founded_year"]))).name
        p.facts["favourite_colour"] = rng.choice(lexicon.COLOURS)
        p.facts["instrument"] = rng.choice(lexicon.INSTRUMENTS)
        return p

    @staticmethod
    def _pick_person(rng: random.Random, people: List[Entity], born_from: int, born_to: int) -> Entity:
        fitting = [p for p in people if born_from <= int(p.facts["birth_year"]) <= born_to]
        if fitting:
            return rng.choice(fitting)
        return min(people, key=lambda p: abs(int(p.facts["birth_year"]) - (born_from + born_to) // 2))

    def _event(self, eid: str, split: str, rng: random.Random, nf: NameFactory, cities: List[Entity],
               orgs: List[Entity], people: List[Entity]) -> Entity:
        e = Entity(eid, "event", f"{nf.word(2, 3)} {rng.choice(lexicon.EVENT_KINDS)}", split)
        year = rng.randint(1890, 2020)
        e.facts["event_year"] = str(year)
        e.facts["event_city"] = rng.choice(cities).name
        fitting = [o for o in orgs if int(o.facts["founded_year"]) <= year]
        e.facts["organiser"] = (rng.choice(fitting) if fitting else rng.choice(orgs)).name
        e.facts["leader"] = self._pick_person(rng, people, year - 75, year - 20).name
        return e

    # ------------------------------------------------------------------------------------------ unseen world
    def _build_unseen(self) -> None:
        cfg = self.config
        rng = rng_for(self.seed, "unseen")
        nf = self._factory("unseen")
        cities, orgs, people = self.of("city"), self.of("org"), self.of("person")
        countries = self.of("country")
        rivers = self.of("river")
        first_names = [nf.word(2, 2, coda_p=0.4) for _ in range(cfg.first_names_unseen)]
        total = cfg.unseen_eval + cfg.unseen_train
        kinds = list(cfg.unseen_mix)
        weights = [cfg.unseen_mix[k] for k in kinds]
        counters = {k: 0 for k in kinds}
        for i in range(total):
            kind = rng.choices(kinds, weights)[0]
            n = counters[kind]
            counters[kind] += 1
            uid = f"unseen-{kind}:{n:04d}"
            if kind == "person":
                e = self._person(uid, "unseen", rng, nf, first_names, cities, orgs)
            elif kind == "org":
                e = Entity(uid, "org", f"{nf.word(2, 3)} {rng.choice(lexicon.ORG_SUFFIXES)}", "unseen")
                year = rng.randint(1885, 2015)
                e.facts["founded_year"] = str(year)
                e.facts["headquarters"] = rng.choice(cities).name
                industry = rng.choice(sorted(lexicon.INDUSTRIES))
                e.facts["industry"] = industry
                e.facts["product"] = rng.choice(lexicon.INDUSTRIES[industry])
                e.facts["founder"] = self._pick_person(rng, people, year - 70, year - 20).name
            elif kind == "city":
                e = Entity(uid, "city", nf.word(2, 3), "unseen")
                country = rng.choice(countries)
                e.facts["country"] = country.name
                local = [r for r in rivers if r.facts["river_country"] == country.name]
                e.facts["river"] = rng.choice(local).name
                e.facts["city_founded"] = str(rng.randint(1150, 1890))
                e.facts["landmark"] = rng.choice(lexicon.LANDMARKS)
                e.facts["mayor"] = rng.choice(people).name
            else:
                e = self._event(uid, "unseen", rng, nf, cities, orgs, people)
            self._add(e)
        self.unseen_ids = [e.id for e in self.entities.values() if e.split == "unseen"]

    # ------------------------------------------------------------------------------------------ export
    def to_json(self) -> Dict[str, object]:
        return {
            "seed": self.seed,
            "seas": self.seas,
            "entities": [e.to_json() for e in self.entities.values()],
        }

    def known_facts(self) -> Iterable[tuple]:
        """(entity, relation, value) for every known fact, in a fixed order."""
        for e in self.entities.values():
            if e.split != "known":
                continue
            for rel in RELATIONS:
                if rel in e.facts:
                    yield e, rel, e.facts[rel]
