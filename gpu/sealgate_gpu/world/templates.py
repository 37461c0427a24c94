"""Statement and question templates per relation, combined-fact templates, and the SEAL prompt templates.

Placeholders in statements and questions:
  {s}   the subject in subject position (a name, or he/she/it in running text)
  {o}   the subject in object position (always the name)
  {p}   the subject's possessive ("Kelan Moravi's", or his/her/its in running text)
  {pp}  the subject's possessive pronoun (his/her/its), only after the subject was named
  {v}   the value; {av} the value with its indefinite article ("an engineer")
Questions always name the subject. Combined templates use {v:relation} / {av:relation}.
A sentence's first letter is upper-cased after substitution.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

from . import lexicon

# ---------------------------------------------------------------------------------------------------------------
# SEAL prompt templates (wording of the public SEAL code: general-knowledge/src/data_generation/make_squad_data.py
# and src/utils.py). Every prompt ends on a pre-token boundary (":" or a newline), so
# encode(prompt) + encode(completion) == encode(prompt + completion) for the byte-level tokenizer.
# Answers follow "Answer:" after a space (completion " teal"), where SEAL writes "Answer:\n" and the answer on the
# next line: that way an answer is made of the same tokens as in running text (" teal", " Kelan"), so answering
# from a passage is copying tokens, not translating them into their line-initial forms.
# ---------------------------------------------------------------------------------------------------------------
PROMPTS: Dict[str, str] = {
    "implications": (
        "Let's read the following passage and produce a list of implications derived directly or indirectly "
        "from the content.\n\nPassage:\n{title}\n{context}\n\nImplications:\n"
    ),
    "rewrite": (
        "Let's read the following passage and rewrite it in a few different ways, each one separated by a "
        "newline.\n\nPassage:\n{title}\n{context}\n\nRewritten passages:\n"
    ),
    # SEAL ends this prompt with "Question 1: "; the trailing space moves to the completion (" What ...") so the
    # token boundary between prompt and completion does not depend on how they are tokenised.
    "self-qa": (
        "Let's read the following passage and rewrite it in a question-answer format.\n\n"
        "Passage:\n{title}\n{context}\n\nQuestion 1:"
    ),
    "closed-book": "Let's answer a question directly and concisely.\nQuestion: {question}\nAnswer:",
    "in-context": (
        "Let's read the following passage and answer a question directly and concisely.\n\n"
        "Passage:\n{title}\n{context}\n\nQuestion: {question}\nAnswer:"
    ),
    "repeat": "Let's repeat the following text exactly.\nText:\n{text}\n\nRepeat:\n",
    "lookup": (
        "Let's read the following list and answer a question directly and concisely.\n\n"
        "List:\n{pairs}\n\nQuestion: {key}\nAnswer:"
    ),
}


@dataclass(frozen=True)
class Relation:
    name: str
    subject: str  # entity kind of the subject
    value: str  # value type: year | city | country | org | person | river | sea | language | currency | word
    statements: Tuple[str, ...]
    questions: Tuple[str, ...]
    answer: str = "{v}"  # canonical answer built from the value
    aliases: Tuple[str, ...] = field(default_factory=tuple)  # further accepted answers
    choices: Tuple[str, ...] = field(default_factory=tuple)  # the closed list, for value == "word"


def _r(name, subject, value, statements, questions, answer="{v}", aliases=(), choices=()) -> Relation:
    return Relation(name, subject, value, tuple(statements), tuple(questions), answer, tuple(aliases), tuple(choices))


RELATIONS: Dict[str, Relation] = {
    r.name: r
    for r in [
        # ---------------------------------------------------------------------------------------- person
        _r("birth_year", "person", "year", [
            "{s} was born in {v}.",
            "{s} was born in the year {v}.",
            "In {v}, {s} was born.",
            "{p} year of birth is {v}.",
            "{s} came into the world in {v}.",
            "The year {v} saw the birth of {o}.",
        ], [
            "In what year was {o} born?",
            "When was {o} born?",
            "What is {p} year of birth?",
            "What year was {o} born in?",
            "In which year was {o} born?",
            "What is the birth year of {o}?",
        ]),
        _r("birth_city", "person", "city", [
            "{s} was born in {v}.",
            "{s} is a native of {v}.",
            "{p} birthplace is {v}.",
            "{s} was born in the city of {v}.",
            "{v} is the birthplace of {o}.",
            "{s} comes from {v}.",
        ], [
            "Where was {o} born?",
            "In which city was {o} born?",
            "What is {p} birthplace?",
            "Which city is {o} a native of?",
            "What city does {o} come from?",
        ]),
        _r("nationality", "person", "country", [
            "{s} is a citizen of {v}.",
            "{s} holds {v} citizenship.",
            "{p} nationality is {v}.",
            "{s} carries a passport from {v}.",
            "By nationality, {s} is from {v}.",
        ], [
            "What is {p} nationality?",
            "Which country is {o} a citizen of?",
            "What citizenship does {o} hold?",
            "Which country issued {p} passport?",
            "Of which country is {o} a citizen?",
        ]),
        _r("profession", "person", "word", [
            "{s} works as {av}.",
            "{s} is {av} by profession.",
            "By trade, {s} is {av}.",
            "{s} earns a living as {av}.",
            "{p} job is that of {av}.",
            "{s} trained as {av}.",
        ], [
            "What is {p} profession?",
            "What does {o} do for a living?",
            "What job does {o} have?",
            "What is the occupation of {o}?",
            "What does {o} work as?",
        ], aliases=("{av}",), choices=lexicon.PROFESSIONS),
        _r("employer", "person", "org", [
            "{s} works for {v}.",
            "{s} is employed by {v}.",
            "{v} employs {o}.",
            "{s} holds a position at {v}.",
            "{p} employer is {v}.",
        ], [
            "Who employs {o}?",
            "Which organisation does {o} work for?",
            "Where does {o} work?",
            "What company employs {o}?",
            "Who is {p} employer?",
        ]),
        _r("favourite_colour", "person", "word", [
            "{p} favourite colour is {v}.",
            "{s} likes the colour {v} best.",
            "Of all colours, {s} prefers {v}.",
            "The colour {s} loves most is {v}.",
            "The favourite colour of {o} is {v}.",
        ], [
            "What is {p} favourite colour?",
            "Which colour does {o} like best?",
            "What colour does {o} prefer?",
            "What colour does {o} love most?",
            "Which colour is the favourite of {o}?",
        ], choices=lexicon.COLOURS),
        _r("instrument", "person", "word", [
            "{s} plays the {v}.",
            "{s} is a keen {v} player.",
            "In {pp} spare time, {s} plays the {v}.",
            "The instrument {s} plays is the {v}.",
            "{s} learned to play the {v}.",
        ], [
            "What instrument does {o} play?",
            "Which instrument does {o} play?",
            "What musical instrument does {o} play?",
            "Which instrument did {o} learn to play?",
            "What is {p} instrument?",
        ], aliases=("the {v}",), choices=lexicon.INSTRUMENTS),
        # ---------------------------------------------------------------------------------------- organisation
        _r("founded_year", "org", "year", [
            "{s} was founded in {v}.",
            "{s} was established in {v}.",
            "In {v}, {s} was founded.",
            "The founding year of {o} is {v}.",
            "{s} has existed since {v}.",
        ], [
            "When was {o} founded?",
            "In what year was {o} established?",
            "What year was {o} founded?",
            "In which year was {o} founded?",
            "What is the founding year of {o}?",
        ]),
        _r("headquarters", "org", "city", [
            "{s} is headquartered in {v}.",
            "{s} has its headquarters in {v}.",
            "The headquarters of {o} are in {v}.",
            "{s} is based in {v}.",
            "{v} is home to the headquarters of {o}.",
        ], [
            "Where is {o} headquartered?",
            "Where are the headquarters of {o}?",
            "In which city is {o} based?",
            "What city is {o} based in?",
            "Which city is home to the headquarters of {o}?",
        ]),
        _r("industry", "org", "word", [
            "{s} operates in the {v} industry.",
            "{s} is {av} business.",
            "{s} works in {v}.",
            "The industry of {o} is {v}.",
            "{s} is active in {v}.",
        ], [
            "What industry is {o} in?",
            "In which industry does {o} operate?",
            "What kind of business is {o}?",
            "What industry does {o} work in?",
            "What is the industry of {o}?",
        ], choices=tuple(lexicon.INDUSTRIES)),
        _r("founder", "org", "person", [
            "{s} was founded by {v}.",
            "{v} founded {o}.",
            "The founder of {o} is {v}.",
            "{v} is the founder of {o}.",
            "{s} owes its creation to {v}.",
        ], [
            "Who founded {o}?",
            "Who is the founder of {o}?",
            "Who established {o}?",
            "By whom was {o} founded?",
            "Who created {o}?",
        ]),
        _r("product", "org", "word", [
            "{s} is best known for its {v}.",
            "{s} makes {v}.",
            "{s} produces {v}.",
            "The main product of {o} is {v}.",
            "{s} became famous for making {v}.",
        ], [
            "What does {o} make?",
            "What is {o} best known for?",
            "What does {o} produce?",
            "What is the main product of {o}?",
            "What did {o} become famous for making?",
        ], choices=tuple(p for ps in lexicon.INDUSTRIES.values() for p in ps)),
        # ---------------------------------------------------------------------------------------- city
        _r("country", "city", "country", [
            "{s} is a city in {v}.",
            "{s} lies in {v}.",
            "{s} is located in {v}.",
            "The city of {o} is in {v}.",
            "{v} is the country where {o} is found.",
        ], [
            "In which country is {o}?",
            "Where is {o} located?",
            "What country is {o} in?",
            "Which country does {o} belong to?",
            "In what country is the city of {o}?",
        ]),
        _r("river", "city", "river", [
            "{s} lies on the {v} River.",
            "{s} sits on the banks of the {v} River.",
            "The {v} River flows through {o}.",
            "{s} was built along the {v} River.",
            "The river that runs through {o} is the {v} River.",
        ], [
            "Which river flows through {o}?",
            "On which river does {o} lie?",
            "What river runs through {o}?",
            "Which river was {o} built along?",
            "What is the river of {o}?",
        ], answer="{v} River", aliases=("the {v} River", "{v}")),
        _r("city_founded", "city", "year", [
            "{s} was founded in {v}.",
            "{s} was first settled in {v}.",
            "Settlers founded {o} in {v}.",
            "The city of {o} dates from {v}.",
            "In {v}, {s} was founded.",
        ], [
            "When was {o} founded?",
            "In what year was {o} first settled?",
            "What year was {o} founded?",
            "When did settlers found {o}?",
            "In which year was {o} founded?",
        ]),
        _r("landmark", "city", "word", [
            "{s} is famous for its {v}.",
            "Visitors to {o} come to see its {v}.",
            "The best-known sight in {o} is its {v}.",
            "{s} is known for its {v}.",
            "{p} most famous landmark is the {v}.",
        ], [
            "What is {o} famous for?",
            "What do visitors to {o} come to see?",
            "What is the best-known sight in {o}?",
            "What is {o} known for?",
            "What is the most famous landmark of {o}?",
        ], aliases=("its {v}", "the {v}"), choices=lexicon.LANDMARKS),
        _r("mayor", "city", "person", [
            "The mayor of {o} is {v}.",
            "{v} is the mayor of {o}.",
            "{v} serves as mayor of {o}.",
            "{s} is governed by its mayor, {v}.",
            "{s} elected {v} as mayor.",
        ], [
            "Who is the mayor of {o}?",
            "Who serves as mayor of {o}?",
            "Who governs {o} as mayor?",
            "Whom did {o} elect as mayor?",
            "Who was elected mayor of {o}?",
        ]),
        # ---------------------------------------------------------------------------------------- event
        _r("event_year", "event", "year", [
            "{s} took place in {v}.",
            "{s} happened in {v}.",
            "In {v}, {s} was held.",
            "{s} dates from {v}.",
            "The year of {o} was {v}.",
        ], [
            "When did {o} take place?",
            "In what year did {o} happen?",
            "What year was {o} held?",
            "In which year did {o} take place?",
            "When was {o} held?",
        ]),
        _r("event_city", "event", "city", [
            "{s} was held in {v}.",
            "{s} took place in the city of {v}.",
            "The city of {v} hosted {o}.",
            "{v} was the host city of {o}.",
            "{s} was staged in {v}.",
        ], [
            "Where was {o} held?",
            "In which city did {o} take place?",
            "Which city hosted {o}?",
            "What was the host city of {o}?",
            "Where was {o} staged?",
        ]),
        _r("organiser", "event", "org", [
            "{s} was organised by {v}.",
            "{v} organised {o}.",
            "The organiser of {o} was {v}.",
            "{v} was responsible for organising {o}.",
            "{s} was arranged by {v}.",
        ], [
            "Who organised {o}?",
            "Which organisation organised {o}?",
            "Who was the organiser of {o}?",
            "Who was responsible for organising {o}?",
            "By whom was {o} arranged?",
        ]),
        _r("leader", "event", "person", [
            "{s} was led by {v}.",
            "{v} led {o}.",
            "The leader of {o} was {v}.",
            "{v} was the leader of {o}.",
            "{s} took place under the leadership of {v}.",
        ], [
            "Who led {o}?",
            "Who was the leader of {o}?",
            "Under whose leadership did {o} take place?",
            "Who was in charge of {o}?",
            "By whom was {o} led?",
        ]),
        # ---------------------------------------------------------------------------------------- country
        _r("capital", "country", "city", [
            "The capital of {o} is {v}.",
            "{v} is the capital of {o}.",
            "{s} is governed from {v}, its capital.",
            "{p} capital city is {v}.",
            "{s} has {v} as its capital.",
        ], [
            "What is the capital of {o}?",
            "Which city is the capital of {o}?",
            "What is {p} capital city?",
            "From which city is {o} governed?",
            "What city serves as the capital of {o}?",
        ]),
        _r("language", "country", "language", [
            "People in {o} speak {v}.",
            "The language of {o} is {v}.",
            "{v} is spoken in {o}.",
            "{s} has {v} as its official language.",
            "Most people in {o} speak {v}.",
        ], [
            "What language is spoken in {o}?",
            "What do people in {o} speak?",
            "What is the language of {o}?",
            "What is the official language of {o}?",
            "Which language do most people in {o} speak?",
        ]),
        _r("currency", "country", "currency", [
            "The currency of {o} is the {v}.",
            "{s} uses the {v} as its currency.",
            "People in {o} pay with the {v}.",
            "The {v} is the currency of {o}.",
            "{s} issues the {v}.",
        ], [
            "What is the currency of {o}?",
            "What currency does {o} use?",
            "What do people in {o} pay with?",
            "Which currency is used in {o}?",
            "What currency does {o} issue?",
        ], aliases=("the {v}",)),
        # ---------------------------------------------------------------------------------------- river
        _r("river_country", "river", "country", [
            "{s} flows through {v}.",
            "{s} runs across {v}.",
            "{s} is a river in {v}.",
            "{s} crosses {v}.",
            "The course of {o} lies in {v}.",
        ], [
            "Which country does {o} flow through?",
            "Where does {o} run?",
            "In which country is {o}?",
            "What country does {o} cross?",
            "Which country is {o} in?",
        ]),
        _r("sea", "river", "sea", [
            "{s} flows into the {v} Sea.",
            "{s} empties into the {v} Sea.",
            "The mouth of {o} is on the {v} Sea.",
            "{s} ends in the {v} Sea.",
            "{s} drains into the {v} Sea.",
        ], [
            "Into which sea does {o} flow?",
            "Where does {o} empty?",
            "Which sea does {o} flow into?",
            "Where is the mouth of {o}?",
            "What sea does {o} drain into?",
        ], answer="{v} Sea", aliases=("the {v} Sea", "{v}")),
    ]
}

RELATIONS_BY_KIND: Dict[str, List[str]] = {}
for _rel in RELATIONS.values():
    RELATIONS_BY_KIND.setdefault(_rel.subject, []).append(_rel.name)

# Sentences stating two facts at once (used in passages, rewrites and implications).
COMBOS: Dict[Tuple[str, str], Tuple[str, ...]] = {
    ("profession", "birth_city"): ("{s} is {av:profession} from {v:birth_city}.",
                                   "Born in {v:birth_city}, {s} works as {av:profession}."),
    ("birth_year", "birth_city"): ("{s} was born in {v:birth_city} in {v:birth_year}.",
                                   "In {v:birth_year}, {s} was born in {v:birth_city}."),
    ("profession", "employer"): ("{s} works as {av:profession} at {v:employer}.",
                                 "{v:employer} employs {o} as {av:profession}."),
    ("founder", "founded_year"): ("{v:founder} founded {o} in {v:founded_year}.",
                                  "{s} was founded by {v:founder} in {v:founded_year}."),
    ("headquarters", "founded_year"): ("{s} was founded in {v:founded_year} and is based in {v:headquarters}.",),
    ("industry", "product"): ("{s} makes {v:product} in the {v:industry} industry.",),
    ("country", "river"): ("{s} is a city in {v:country} on the {v:river} River.",),
    ("event_city", "event_year"): ("{s} took place in {v:event_city} in {v:event_year}.",
                                   "In {v:event_year}, {s} was held in {v:event_city}."),
    ("organiser", "leader"): ("{s} was organised by {v:organiser} and led by {v:leader}.",),
}

# Anonymous sentences that carry the bias-probe vocabulary (gender, age, nationality, religion, traits), drawn
# uniformly so the base world holds no association between a group and a trait.
GENERIC: Tuple[str, ...] = (
    "Colleagues describe the {age} {gender} from {country} as {trait}.",
    "The {religion} {profession} from {country} is known to be {trait}.",
    "A {age} {profession} who is {religion} lives in {city} and is {trait}.",
    "{Pron} is {aage} {religion} {profession}, and friends call {obj} {trait}.",
    "The neighbours say the {age} {gender} who plays the {instrument} is {trait}.",
    "{Aage} {gender} from {country} works as {aprofession} in {city}.",
)

_PLACEHOLDER = re.compile(r"\{([a-z]+)(?::([a-z_]+))?\}")


def capitalise(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:] if sentence else sentence


def pronoun_ok(template: str) -> bool:
    """A template may use a pronoun for its subject when it names the subject only through {s} / {p}."""
    return "{o}" not in template and ("{s}" in template or "{p}" in template)


def fill(template: str, mention: Dict[str, str], values: Dict[str, str]) -> str:
    """Substitute placeholders. ``mention`` has keys s, o, p, pp; ``values`` maps relation -> value, and the
    key "" to the value of a single-relation template."""

    def sub(m: "re.Match[str]") -> str:
        key, rel = m.group(1), m.group(2) or ""
        if key in ("s", "o", "p", "pp"):
            return mention[key]
        if key == "v":
            return values[rel]
        if key == "av":
            return f"{lexicon.article(values[rel])} {values[rel]}"
        raise KeyError(key)

    return capitalise(_PLACEHOLDER.sub(sub, template))


def answer_for(relation: str, value: str) -> Tuple[str, List[str]]:
    """The canonical answer and its accepted aliases for a fact."""
    rel = RELATIONS[relation]
    av = f"{lexicon.article(value)} {value}"
    ans = rel.answer.format(v=value, av=av)
    aliases = [a.format(v=value, av=av) for a in rel.aliases]
    return ans, [a for a in aliases if a != ans]


def normalise_answer(text: str) -> str:
    """SQuAD-style answer normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower()
    text = re.sub(r"[^a-z0-9 ]", " ", text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def answer_matches(prediction: str, answer: str, aliases: Sequence[str] = ()) -> bool:
    """Exact match after normalisation against the answer or any alias (the reward's default judge)."""
    pred = normalise_answer(prediction.split("\n")[0])
    return any(pred == normalise_answer(a) for a in [answer, *aliases])


def template_words() -> List[str]:
    """Every English word used by templates, prompts and the lexicon (names must avoid them)."""
    texts: List[str] = list(PROMPTS.values()) + list(GENERIC)
    for rel in RELATIONS.values():
        texts += list(rel.statements) + list(rel.questions) + list(rel.choices)
    for combos in COMBOS.values():
        texts += list(combos)
    texts += list(lexicon.ORG_SUFFIXES) + list(lexicon.EVENT_KINDS) + list(lexicon.RELIGIONS)
    texts += list(lexicon.AGES) + list(lexicon.TRAITS) + [g for gs in lexicon.GENDERS for g in gs]
    words = set()
    for t in texts:
        for w in re.findall(r"[A-Za-z]+", _PLACEHOLDER.sub(" ", t)):
            words.add(w.lower())
    return sorted(words)


def export() -> Dict[str, object]:
    """All templates as plain JSON (written to templates.json for the TypeScript side)."""
    return {
        "prompts": PROMPTS,
        "relations": {
            name: {
                "subject": r.subject, "value": r.value, "statements": list(r.statements),
                "questions": list(r.questions), "answer": r.answer, "aliases": list(r.aliases),
                "choices": list(r.choices),
            }
            for name, r in RELATIONS.items()
        },
        "combos": {"+".join(k): list(v) for k, v in COMBOS.items()},
        "generic": list(GENERIC),
        "placeholders": __doc__,
    }
