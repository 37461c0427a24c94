"""Write the default model's world data and tokenizer.

    /usr/bin/python3 -m sealgate_gpu.world.generate --seed 7 --out /tmp/world-7           # full size
    /usr/bin/python3 -m sealgate_gpu.world.generate --seed 7 --out /tmp/w --scale small    # for tests

Output (JSON lines unless noted): see README.md in this folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Dict, Iterable, List, Optional

from . import templates
from .corpus import biographies, closed_book_records, generic_text, heldout_passages, known_qa
from .entities import World, WorldConfig, rng_for
from .probes import bias_probes, bias_terms, canary_probes, forgetting_probes
from .tasks import TaskFactory, counterfactual_passages, in_context_pairs
from .tokenizer import Tokenizer, save as save_tokenizer, train_tokenizer

FORMAT_VERSION = 1


@dataclass(frozen=True)
class GenConfig:
    world: WorldConfig = field(default_factory=WorldConfig)
    bios: Dict[str, int] = field(default_factory=lambda: {
        "person": 6, "org": 6, "city": 6, "country": 8, "river": 6, "event": 6})
    generic: int = 3000
    qa_train_questions: int = 2
    # task -> (count, {level: share})
    tasks: Dict[str, tuple] = field(default_factory=lambda: {
        "in-context": (12000, {1: 0.2, 2: 0.3, 3: 0.5}),
        "implications": (6000, {1: 0.1, 2: 0.3, 3: 0.6}),
        "rewrite": (2000, {2: 0.4, 3: 0.6}),
        "self-qa": (2000, {2: 0.4, 3: 0.6}),
        "repeat": (4000, {1: 0.4, 2: 0.35, 3: 0.25}),
        "lookup": (4000, {1: 0.4, 2: 0.35, 3: 0.25}),
    })
    counterfactual_passages: int = 3000
    forgetting_probes: int = 300
    bias_swaps_per_axis: int = 40
    bias_pairs_per_axis: int = 100
    canaries: int = 200
    tokenizer_vocab: int = 8000
    tokenizer_min_frequency: int = 20


def small_config() -> GenConfig:
    """A reduced world for tests (still 300 held-out eval passages)."""
    base = GenConfig()
    return replace(
        base,
        world=replace(base.world, cities=40, orgs=40, people=120, events=20, first_names_known=60,
                      first_names_unseen=60, unseen_eval=300, unseen_train=20),
        bios={"person": 2, "org": 2, "city": 2, "country": 2, "river": 2, "event": 2},
        generic=200,
        tasks={k: (max(20, n // 40), lv) for k, (n, lv) in base.tasks.items()},
        counterfactual_passages=60,
        forgetting_probes=60,
        bias_swaps_per_axis=4,
        bias_pairs_per_axis=8,
        canaries=20,
        tokenizer_min_frequency=5,
    )


SCALES = {"full": GenConfig, "small": small_config}

FILES = {
    "world": "world.json",
    "templates": "templates.json",
    "pretrain": "pretrain.jsonl",
    "qa_known": "qa_known.jsonl",
    "heldout": "heldout.jsonl",
    "heldout_closed_book": "heldout_closed_book.jsonl",
    "tasks_in_context": "tasks_in_context.jsonl",
    "tasks_implications": "tasks_implications.jsonl",
    "tasks_rewrite": "tasks_rewrite.jsonl",
    "tasks_self_qa": "tasks_self_qa.jsonl",
    "tasks_copy": "tasks_copy.jsonl",
    "counterfactual": "counterfactual.jsonl",
    "probes_forgetting": "probes_forgetting.jsonl",
    "probes_bias": "probes_bias.jsonl",
    "probes_canary": "probes_canary.jsonl",
    "tokenizer": "tokenizer.json",
}

SPLITS = {
    "known": "Entities taught by pretrain.jsonl (biographies) and qa_known.jsonl; every name word of a known "
             "entity (and known languages, currencies, seas) is in world.json with split=known.",
    "unseen": "Entities of heldout.jsonl only (split eval: experiments; split train: ReST-EM rounds). Their name "
              "words appear in no other file: not in pretraining, QA, tasks, counterfactuals or probes. Their "
              "fact values are known entities or closed-list words.",
    "fresh": "Entities of tasks_*.jsonl and the canary probes: names drawn anew per example, never equal to a "
             "known or unseen name word, so skills learned on them are reading skills, not memory.",
    "qa_known.split": "train: closed-book QA to train on; eval: facts stated only in the biographies, asked "
                      "closed-book at evaluation (knowledge extraction).",
    "counterfactual.split": "by entity: eval entities' counterfactual passages are never trained on.",
}


def _levels(n: int, shares: Dict[int, float]) -> List[int]:
    out: List[int] = []
    levels = sorted(shares)
    for lv in levels:
        out += [lv] * round(n * shares[lv])
    while len(out) < n:
        out.append(levels[-1])
    return sorted(out[:n])  # easy first: a curriculum can read the file in order


def task_records(world: World, cfg: GenConfig) -> Dict[str, List[Dict[str, object]]]:
    out: Dict[str, List[Dict[str, object]]] = {}
    for task, (n, shares) in cfg.tasks.items():
        tf = TaskFactory(world, seed=1, label=f"task-{task}")
        recs = []
        for i, lv in enumerate(_levels(n, shares)):
            rec = tf.sample(task, lv)
            recs.append({"id": f"{task}-{i:05d}", **rec})
        out[task] = recs
    return out


def _write_jsonl(path: str, records: Iterable[Dict[str, object]]) -> int:
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n")
            n += 1
    return n


def _write_json(path: str, obj: object) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_texts(data: Dict[str, List[Dict[str, object]]]) -> Iterable[str]:
    """Every text the model will read, for tokenizer training."""
    for rec in data["pretrain"]:
        yield str(rec["text"])
    for key in ("qa_known", "tasks_in_context", "tasks_implications", "tasks_rewrite", "tasks_self_qa",
                "tasks_copy"):
        for rec in data[key]:
            yield str(rec["prompt"]) + str(rec["completion"])
    for rec in data["counterfactual"]:
        for pair in in_context_pairs(rec):
            yield str(pair["prompt"]) + str(pair["completion"])
    for rec in data["heldout"]:
        yield f"{rec['title']}\n{rec['passage']}"
        for qa in rec["questions"]:  # type: ignore[union-attr]
            yield f"{qa['question']} {qa['answer']}"
    for rec in data["probes_bias"]:
        if rec["kind"] == "swap":
            for v in rec["variants"]:  # type: ignore[union-attr]
                yield str(v["prompt"])
        else:
            yield str(rec["sentence_a"]) + " " + str(rec["sentence_b"])
    for rec in data["probes_canary"]:
        yield str(rec["prompt"])


def build(seed: int, cfg: GenConfig) -> Dict[str, object]:
    """Everything, in memory: {"world": World, "data": {file key: records}}."""
    world = World(seed, cfg.world)
    data: Dict[str, List[Dict[str, object]]] = {}
    bios = biographies(world, cfg.bios)
    generic = generic_text(world, cfg.generic)
    mixed = bios + generic
    rng_for(seed, "pretrain-mix").shuffle(mixed)
    data["pretrain"] = mixed
    data["qa_known"] = known_qa(world, cfg.qa_train_questions)
    data["heldout"] = heldout_passages(world)
    data["heldout_closed_book"] = closed_book_records(data["heldout"])
    tasks = task_records(world, cfg)
    data["tasks_in_context"] = tasks["in-context"]
    data["tasks_implications"] = tasks["implications"]
    data["tasks_rewrite"] = tasks["rewrite"]
    data["tasks_self_qa"] = tasks["self-qa"]
    copy = sorted(tasks["repeat"] + tasks["lookup"], key=lambda r: (r["level"], r["id"]))
    data["tasks_copy"] = copy
    data["counterfactual"] = counterfactual_passages(world, cfg.counterfactual_passages, seed=1)
    data["probes_forgetting"] = forgetting_probes(world, cfg.forgetting_probes)
    data["probes_bias"] = bias_probes(world, cfg.bias_swaps_per_axis, cfg.bias_pairs_per_axis)
    forgot = {f"{r['entity_id']}:{r['relation']}" for r in data["probes_forgetting"]}
    data["probes_canary"] = canary_probes(world, cfg.canaries, forgot)
    return {"world": world, "data": data}


def token_stats(tok: Tokenizer, data: Dict[str, List[Dict[str, object]]], world: World) -> Dict[str, object]:
    def mean(xs: List[int]) -> float:
        return round(sum(xs) / max(1, len(xs)), 2)

    def n(text: str) -> int:
        return len(tok.encode(text, add_special_tokens=False))

    held = data["heldout"]
    passages = [n(f"{r['title']}\n{r['passage']}") for r in held]
    answers = [n(" " + str(qa["answer"])) for r in held for qa in r["questions"]]  # type: ignore[union-attr]
    questions = [n(str(qa["question"])) for r in held for qa in r["questions"]]  # type: ignore[union-attr]
    implic = [n("\n".join(r["reference_implications"])) for r in held]  # type: ignore[arg-type]
    names = [n(" " + e.name) for e in world.entities.values() if e.kind == "person"]
    sentences = [n(s) for r in held for s in str(r["passage"]).split(". ")]
    stats = {
        "vocab_size": tok.vocab_size,
        "heldout_passage_tokens_mean": mean(passages),
        "heldout_passage_tokens_max": max(passages),
        "answer_tokens_mean": mean(answers),
        "answer_tokens_max": max(answers),
        "question_tokens_mean": mean(questions),
        "fact_sentence_tokens_mean": mean(sentences),
        "reference_implications_tokens_mean": mean(implic),
        "person_name_tokens_mean": mean(names),
    }
    pairs = {key: data[key] for key in ("tasks_in_context", "tasks_implications", "tasks_rewrite", "tasks_self_qa",
                                        "tasks_copy", "qa_known")}
    pairs["counterfactual"] = [p for r in data["counterfactual"] for p in in_context_pairs(r)]
    for key, recs in pairs.items():
        lengths = [n(str(r["prompt"]) + str(r["completion"])) + 2 for r in recs]
        stats[f"{key}_sequence_tokens_mean"] = mean(lengths)
        stats[f"{key}_sequence_tokens_max"] = max(lengths)
    pre = [n(str(r["text"])) for r in data["pretrain"]]
    stats["pretrain_tokens_total"] = sum(pre)
    stats["pretrain_record_tokens_mean"] = mean(pre)
    return stats


def write(out: str, seed: int, cfg: GenConfig, scale: str, with_tokenizer: bool = True,
          log=lambda *a: None) -> Dict[str, object]:
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    built = build(seed, cfg)
    world: World = built["world"]  # type: ignore[assignment]
    data: Dict[str, List[Dict[str, object]]] = built["data"]  # type: ignore[assignment]
    log(f"built world and data in {time.time() - t0:.1f}s")
    counts: Dict[str, int] = {}
    for key, recs in data.items():
        counts[key] = _write_jsonl(os.path.join(out, FILES[key]), recs)
    _write_json(os.path.join(out, FILES["world"]), {**world.to_json(), "bias_terms": bias_terms(world)})
    _write_json(os.path.join(out, FILES["templates"]), templates.export())
    stats: Dict[str, object] = {}
    if with_tokenizer:
        t1 = time.time()
        spec, train_stats = train_tokenizer(corpus_texts(data), cfg.tokenizer_vocab, cfg.tokenizer_min_frequency)
        save_tokenizer(spec, os.path.join(out, FILES["tokenizer"]))
        tok = Tokenizer(spec)
        log(f"trained tokenizer ({train_stats['vocab_size']} tokens) in {time.time() - t1:.1f}s")
        stats = {**train_stats, **token_stats(tok, data, world)}
    counts["entities_known"] = sum(1 for e in world.entities.values() if e.split == "known")
    counts["entities_unseen"] = sum(1 for e in world.entities.values() if e.split == "unseen")
    counts["known_facts"] = sum(1 for _ in world.known_facts())
    counts["heldout_eval"] = sum(1 for r in data["heldout"] if r["split"] == "eval")
    counts["heldout_train"] = sum(1 for r in data["heldout"] if r["split"] == "train")
    files = {}
    for key, name in FILES.items():
        path = os.path.join(out, name)
        if os.path.exists(path):
            files[name] = {"sha256": sha256_file(path), "bytes": os.path.getsize(path),
                           "records": counts.get(key)}
    manifest = {
        "format_version": FORMAT_VERSION,
        "generator": "sealgate_gpu.world.generate",
        "seed": seed,
        "scale": scale,
        "config": json.loads(json.dumps(asdict(cfg), default=str)),
        "counts": counts,
        "splits": SPLITS,
        "special_tokens": {"<unk>": 0, "<s>": 1, "</s>": 2, "<pad>": 3},
        "sequence_format": "<s> + prompt + completion + </s>; loss on completion and </s> only; prompt and "
                           "completion tokenise independently (prompts end on a pre-token boundary).",
        "token_stats": stats,
        "files": files,
    }
    _write_json(os.path.join(out, "manifest.json"), manifest)
    log(f"done in {time.time() - t0:.1f}s")
    return manifest


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sealgate_gpu.world.generate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--scale", choices=sorted(SCALES), default="full")
    ap.add_argument("--no-tokenizer", action="store_true", help="skip training tokenizer.json")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    cfg = SCALES[args.scale]()
    log = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    manifest = write(args.out, args.seed, cfg, args.scale, not args.no_tokenizer, log)
    if not args.quiet:
        print(json.dumps({"counts": manifest["counts"], "token_stats": manifest["token_stats"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
