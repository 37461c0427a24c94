"""Experiment 2: continual updates, N passages applied one after another on one channel.

Each run takes N held-out passages (by default from the end of the eval split, which the knowledge experiment
never reaches). The base model writes one implications self-edit per passage; edit r is trained and applied
after edits 0..r-1. The arms:
  naive         edit r trains a new adapter on top of the stack of edits 0..r-1 (the gateway's
                rank-concatenated stack) on its own sequences; every prompt is served by the whole stack;
  mitigated     like naive, and edit r also replays the earlier edits' sequences and texts of the model's
                rehearsal corpus (the gateway's `training.replay` policy);
  consolidated  like mitigated, but edit r trains on the base model and replaces the stack (one adapter holds
                every edit so far); the gateway does not offer it, it is the bound replay can reach;
  routed        each edit carries a route key (its subject, seal/routing.py) and trains on the parent as the
                gateway serves it to the edit's own texts (the earlier adapters whose keys those texts match:
                usually none); every prompt is served by the adapters whose key it matches, so unrelated prompts
                run on the untouched base (the gateway's `routing: subject` policy).
Every arm trains with one inner update: the gateway's (policies/channels.yaml; the default) or, with
`--inner-update seal`, SEAL's. Runs of an arm train side by side, one batched pass per edit step.

Measured just after each edit (its own questions) and, at the milestones (8, 32, 100 edits when reached, and
the last), everything else:
  efficacy     the edit's own questions, closed-book, just after its edit (the world's paraphrased questions);
  retention    the earlier passages' accuracy at the milestone as a fraction of their just-after accuracy;
  knownFacts   of the known facts the base model answers right (the forgetting probes), the share still right;
  locality     token agreement with the base model's greedy answer on unrelated prompts (the canary probes);
  inContextQa  reading skill: in-context QA on passages no edit is about, before and at the milestone.
Each comes with a 95% interval (over passages, facts or prompts; retention by a bootstrap over passages).

Run from gpu/: python3 -m sealgate_gpu.seal.continual --model ../models/default [--edits 8] [--runs 4] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from ..evaluate import read_jsonl
from ..lora import LoraAdapter
from ..model import greedy_rows
from ..training import TokenSequence, TrainParams
from ..world.render import prompt
from .common import SEAL_INNER_UPDATE, Checkpoint, Progress, Setup, inner_update_summary, mean_ci95, write_json
from .grouped_lora import GroupedAdapters
from .routing import key_matches, route_key, vocabulary
from .self_edits import Passage, edit_sequences, generate_self_edits, self_edit_lines, text_sequence
from .trials import ANSWER_TOKENS, INNER_UPDATE, Trial, closed_book_prompts, run_trials, score

ARMS = ("naive", "mitigated", "consolidated", "routed")
INNER_UPDATES = {"seal": SEAL_INNER_UPDATE, "gateway": INNER_UPDATE}
MILESTONES = (8, 32, 100)
LOCALITY_TOKENS = 16
GROUPS_PER_PASS = 32
ROWS_PER_PASS = 256
# The arm the shipped channel policy (policies/channels.yaml) uses.
SHIPPED = "routed"

Stack = Tuple[int, ...]  # indices of a run's adapters that serve a prompt


def known_facts(model_dir: str, n: int) -> Passage:
    """n facts the base model was trained on (the forgetting probes), as one probe passage."""
    probes = read_jsonl(os.path.join(model_dir, "world", "probes_forgetting.jsonl"))[:n]
    questions = [{"question": p["question"], "answer": p["answer"], "aliases": p.get("aliases") or []} for p in probes]
    return Passage("known-facts", "", "", questions)


def rehearsal_sequences(setup: Setup, n: int, seed: int, only: str = "") -> List[TokenSequence]:
    """n texts of the model's rehearsal corpus (rehearsal.jsonl: pretraining biographies and known
    question-answer pairs), drawn at random, optionally only those whose id starts with `only`; the gateway's
    `training.replay.rehearsal` draws from the same file."""
    corpus = [r for r in read_jsonl(os.path.join(setup.model_dir, "rehearsal.jsonl")) if str(r["id"]).startswith(only)]
    gen = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(corpus), (n,), generator=gen).tolist()
    return [text_sequence(setup.tok, str(corpus[j]["text"])) for j in picks]


def bootstrap_ratio(num: Sequence[float], den: Sequence[float], seed: int = 0, n: int = 2000) -> Dict[str, Any]:
    """sum(num) / sum(den) with a 95% percentile-bootstrap interval over the paired items."""
    if not den or sum(den) == 0:
        return {"mean": 0.0, "ci95": [0.0, 0.0], "n": len(den)}
    rng = random.Random(seed)
    k = len(den)
    draws = []
    for _ in range(n):
        idx = [rng.randrange(k) for _ in range(k)]
        d = sum(den[i] for i in idx)
        if d > 0:
            draws.append(sum(num[i] for i in idx) / d)
    draws.sort()
    return {"mean": sum(num) / sum(den), "ci95": [draws[int(0.025 * len(draws))], draws[int(0.975 * len(draws)) - 1]],
            "n": k}


def token_agreement(a: Sequence[int], b: Sequence[int], length: int) -> float:
    """Share of the reference's first `length` positions (padded by end-of-text) where both answers agree."""
    ref = list(b[:length]) + [-1] * (length - len(b[:length]))
    got = list(a[:length]) + [-1] * (length - len(a[:length]))
    return sum(x == y for x, y in zip(got, ref)) / length


class ContinualExperiment:
    def __init__(self, setup: Setup, args: argparse.Namespace) -> None:
        self.s = setup
        self.args = args
        self.edits = args.edits
        self.params: TrainParams = INNER_UPDATES[args.inner_update]
        need = args.runs * self.edits
        first = len(setup.eval_passages) - need if args.first_passage is None else args.first_passage
        pool = setup.eval_passages[first:first + need]
        if first < 0 or len(pool) < need:
            raise ValueError(f"{args.runs} runs of {self.edits} edits from passage {first} need more held-out "
                             f"passages than the eval split's {len(setup.eval_passages)}")
        self.runs = [pool[i * self.edits:(i + 1) * self.edits] for i in range(args.runs)]
        self.milestones = sorted({m for m in MILESTONES if m < self.edits} | {self.edits})
        self.known = known_facts(setup.model_dir, args.known_facts)
        self.canaries = [str(r["prompt"]) for r in read_jsonl(os.path.join(setup.model_dir, "world", "probes_canary.jsonl"))]
        # Reading skill: in-context questions on train-split passages, which no edit of this experiment is about.
        self.reading = setup.train_passages[: args.reading]
        self.vocabulary = vocabulary(str(r["text"]) for r in read_jsonl(os.path.join(setup.model_dir, "rehearsal.jsonl")))
        self.keys = [[route_key(p.title, p.text, self.vocabulary) for p in run] for run in self.runs]
        self.rehearsal = rehearsal_sequences(setup, need * args.rehearsal, args.seed, args.rehearsal_only)
        base = {"runs": args.runs, "edits": self.edits, "first": first, "seed": args.seed,
                "knownFacts": args.known_facts, "reading": args.reading, "innerUpdate": inner_update_summary(self.params)}
        replay = {**base, "rehearsal": args.rehearsal, "rehearsalOnly": args.rehearsal_only, "replayCap": args.replay_cap}
        inner = "" if args.inner_update == "seal" else f"-{args.inner_update}"
        folder = os.path.join(args.work, "continual-n", f"edits{self.edits}-runs{args.runs}-from{first}-seed{args.seed}{inner}")
        rehearsal = f"rh{args.rehearsal}{args.rehearsal_only}"
        self.ckpt = {
            "setup": Checkpoint(os.path.join(folder, "setup"), base),
            "naive": Checkpoint(os.path.join(folder, "naive"), base),
            "mitigated": Checkpoint(os.path.join(folder, f"mitigated-{rehearsal}-cap{args.replay_cap}"), replay),
            "consolidated": Checkpoint(os.path.join(folder, f"consolidated-{rehearsal}"), {**replay, "consolidated": True}),
            "routed": Checkpoint(os.path.join(folder, "routed"), {**base, "routing": "subject-v1"}),
        }
        self.first = first
        self.progress = Progress("continual")

    # ----- serving: every prompt with its own stack ----------------------------------------------------------
    def _answers(self, rows: Sequence[List[int]], stacks: Sequence[Stack], adapters: Sequence[LoraAdapter],
                 tokens: int) -> List[List[int]]:
        """Greedy answers, row i served by adapters[j] for j in stacks[i] (rank-concatenated, as the gateway
        serves a stack), grouped so each distinct stack is one group of a batched pass."""
        eos = int(self.s.tok.eos_id)  # type: ignore[arg-type]
        by_stack: Dict[Stack, List[int]] = {}
        for i, st in enumerate(stacks):
            by_stack.setdefault(tuple(st), []).append(i)
        out: List[List[int]] = [[] for _ in rows]
        plain = by_stack.pop((), [])
        for at in range(0, len(plain), 64):
            chunk = plain[at:at + 64]
            for i, ans in zip(chunk, greedy_rows(self.s.model, [rows[i] for i in chunk], tokens, eos)):
                out[i] = ans
        # Pieces of at most 64 rows, packed so that a pass holds at most ROWS_PER_PASS rows (padding included):
        # a whole run's known facts on one stack would otherwise be one pass of several hundred rows.
        pieces = [(st, idx[k:k + 64]) for st, idx in by_stack.items() for k in range(0, len(idx), 64)]
        passes: List[List[Tuple[Stack, List[int]]]] = []
        for piece in pieces:
            last = passes[-1] if passes else None
            if last is not None and len(last) < GROUPS_PER_PASS and \
                    (len(last) + 1) * max(len(piece[1]), *(len(i) for _, i in last)) <= ROWS_PER_PASS:
                last.append(piece)
            else:
                passes.append([piece])
        for part in passes:
            frozen = [[adapters[j] for j in st] for st, _ in part]
            with GroupedAdapters(self.s.stack, self.params.lora, [0] * len(part), frozen=frozen) as ga:
                answers = ga.generate(self.s.model, [[rows[i] for i in idx] for _, idx in part], tokens, eos)
            for (_, idx), ans in zip(part, answers):
                for i, a in zip(idx, ans):
                    out[i] = a
        return out

    def _stack(self, arm: str, run: int, upto: int, text: str) -> Stack:
        """Which of the run's adapters 0..upto serve `text`: routed by key, or the arm's whole stack."""
        if arm == "routed":
            return tuple(j for j in range(upto + 1) if key_matches(self.keys[run][j], text))
        if arm == "consolidated":
            return (upto,)
        return tuple(range(upto + 1))

    def _accuracy(self, arm: str, adapters: List[List[LoraAdapter]], upto: int,
                  passages_of: List[List[Passage]]) -> List[List[float]]:
        """Per run, the closed-book accuracy of each passage in passages_of[run] served after edit `upto`."""
        rows: List[List[int]] = []
        stacks: List[Tuple[Tuple[int, int], ...]] = []
        where: List[Tuple[int, Passage]] = []
        for i, ps in enumerate(passages_of):
            for p in ps:
                for q, ids in zip(p.questions, closed_book_prompts(self.s.tok, p)):
                    rows.append(ids)
                    stacks.append(tuple((i, j) for j in self._stack(arm, i, upto, str(q["question"]))))
                where.append((i, p))
        # Adapters of different runs are distinct: index them into one list.
        index: Dict[Tuple[int, int], int] = {}
        pool: List[LoraAdapter] = []
        flat_stacks: List[Stack] = []
        for st in stacks:
            ids = []
            for key in st:
                if key not in index:
                    index[key] = len(pool)
                    pool.append(adapters[key[0]][key[1]])
                ids.append(index[key])
            flat_stacks.append(tuple(ids))
        answers = self._answers(rows, flat_stacks, pool, ANSWER_TOKENS)
        out: List[List[float]] = [[] for _ in passages_of]
        at = 0
        for i, p in where:
            out[i].append(score(self.s.tok, p, answers[at:at + len(p.questions)]))
            at += len(p.questions)
        return out

    def _served_rows(self, arm: str, adapters: List[List[LoraAdapter]], upto: int, texts: List[str],
                     rows: List[List[int]], tokens: int) -> List[List[List[int]]]:
        """Per run, answers to the same prompts served by the run's stack after edit `upto`."""
        pool: List[LoraAdapter] = []
        stacks: List[Stack] = []
        all_rows: List[List[int]] = []
        for i in range(len(self.runs)):
            base = len(pool)
            pool.extend(adapters[i][: upto + 1])
            for t, ids in zip(texts, rows):
                stacks.append(tuple(base + j for j in self._stack(arm, i, upto, t)))
                all_rows.append(ids)
        answers = self._answers(all_rows, stacks, pool, tokens)
        n = len(rows)
        return [answers[i * n:(i + 1) * n] for i in range(len(self.runs))]

    # ----- the experiment ------------------------------------------------------------------------------------
    def run(self) -> Dict[str, Any]:
        s, tok = self.s, self.s.tok
        t0 = time.perf_counter()
        flat = [p for run in self.runs for p in run]
        ckpt = self.ckpt["setup"]
        edits = ckpt.get("edits") or ckpt.put(
            "edits", [e[0] for e in generate_self_edits(s.model, tok, "implications", flat, 1, seed=self.args.seed)])
        self.edit_texts = [[edits[i * self.edits + r] for r in range(self.edits)] for i in range(len(self.runs))]
        sequences = [[edit_sequences(tok, "implications", p, self.edit_texts[i][r]) for r, p in enumerate(run)]
                     for i, run in enumerate(self.runs)]
        base = ckpt.get("base") or ckpt.put("base", self._base())
        arms = {}
        for arm in self.args.arms:
            arms[arm] = self.ckpt[arm].get("result") or self.ckpt[arm].put("result", self._arm(arm, sequences, base))
        return {
            "experiment": "continual",
            "runs": len(self.runs),
            "edits": self.edits,
            "firstPassage": self.first,
            "passages": [p.id for p in flat],
            "innerUpdate": inner_update_summary(self.params),
            "shipped": SHIPPED,
            "baseAccuracy": sum(base["passages"]) / len(flat),
            "baseKnownFacts": sum(base["knownFacts"]) / len(base["knownFacts"]),
            "baseInContextQa": base["reading"],
            **arms,
            "seconds": time.perf_counter() - t0,
            "device": s.device_info,
        }

    def _base(self) -> Dict[str, Any]:
        """The base model's answers: the passages (closed-book), the known facts one by one, the canaries'
        greedy tokens (locality's reference) and in-context QA."""
        tok = self.s.tok
        flat = [p for run in self.runs for p in run]
        per_passage = self._accuracy("naive", [[] for _ in self.runs], -1, self.runs)
        facts = self._fact_hits([[] for _ in self.runs], "naive", -1)[0]
        canary_rows = [tok.encode(t) for t in self.canaries]
        canary = greedy_rows(self.s.model, canary_rows, LOCALITY_TOKENS, int(tok.eos_id))  # type: ignore[arg-type]
        reading = self._reading([[] for _ in self.runs], "naive", -1)[0]
        return {"passages": [a for accs in per_passage for a in accs], "knownFacts": facts, "canary": canary,
                "reading": reading, "passageCount": len(flat)}

    def _fact_hits(self, adapters: List[List[LoraAdapter]], arm: str, upto: int) -> List[List[float]]:
        """Per run, 1/0 for each known fact answered right."""
        rows = closed_book_prompts(self.s.tok, self.known)
        texts = [str(q["question"]) for q in self.known.questions]
        per_run = self._served_rows(arm, adapters, upto, texts, rows, ANSWER_TOKENS)
        return [[score(self.s.tok, Passage("f", "", "", [q]), [a]) for q, a in zip(self.known.questions, answers)]
                for answers in per_run]

    def _reading(self, adapters: List[List[LoraAdapter]], arm: str, upto: int) -> List[float]:
        """Per run, in-context QA accuracy on the reading passages."""
        qs = [(p, q) for p in self.reading for q in p.questions]
        texts = [prompt("in-context", title=p.title, context=p.text, question=str(q["question"])) for p, q in qs]
        rows = [self.s.tok.encode(t) for t in texts]
        per_run = self._served_rows(arm, adapters, upto, texts, rows, ANSWER_TOKENS)
        return [sum(score(self.s.tok, Passage("r", "", "", [q]), [a]) for (_, q), a in zip(qs, answers)) / max(1, len(qs))
                for answers in per_run]

    def _training_texts(self, run: int, r: int) -> List[str]:
        p = self.runs[run][r]
        return self_edit_lines("implications", self.edit_texts[run][r]) + [f"{p.title}\n{p.text}"]

    def _replay(self, earlier: List[TokenSequence], seed: int) -> List[TokenSequence]:
        """The earlier edits' sequences, or a random `--replay-cap` of them so an edit's cost stays bounded."""
        cap = self.args.replay_cap
        if not cap or len(earlier) <= cap:
            return earlier
        order = torch.randperm(len(earlier), generator=torch.Generator().manual_seed(seed)).tolist()
        return [earlier[j] for j in order[:cap]]

    def _arm(self, arm: str, sequences: List[List[List[TokenSequence]]], base: Dict[str, Any]) -> Dict[str, Any]:
        ckpt = self.ckpt[arm]
        n_runs = len(self.runs)
        adapters: List[List[LoraAdapter]] = [[] for _ in self.runs]
        just_after: List[List[float]] = [[] for _ in self.runs]
        train_seconds = 0.0
        # Routed edits about different subjects do not see each other: a batch of them trains in one pass.
        step = GROUPS_PER_PASS // n_runs if arm == "routed" else 1
        step = max(1, step)
        r = 0
        while r < self.edits:
            upto = min(self.edits, r + step)
            saved = ckpt.get(f"edits-{r}-{upto}")
            if saved is not None:
                folder = os.path.join(ckpt.folder, "adapters")
                for i in range(n_runs):
                    for j in range(r, upto):
                        adapters[i].append(LoraAdapter.load(os.path.join(folder, f"run{i}-edit{j}")))
                train_seconds += saved["seconds"]
                r = upto
                continue
            t = time.perf_counter()
            trials = []
            for j in range(r, upto):
                for i, run in enumerate(self.runs):
                    seqs = list(sequences[i][j])
                    if arm == "routed":
                        texts = self._training_texts(i, j)
                        frozen = [adapters[i][e] for e in range(r)
                                  if any(key_matches(self.keys[i][e], x) for x in texts)]
                    else:
                        if arm in ("mitigated", "consolidated"):
                            seqs += self._replay([q for earlier in sequences[i][:j] for q in earlier], seed=i * self.edits + j)
                            at = (i * self.edits + j) * self.args.rehearsal
                            seqs += self.rehearsal[at:at + self.args.rehearsal]
                        frozen = [] if arm == "consolidated" else list(adapters[i])
                    trials.append(Trial(run[j], seqs, seed=j, frozen=frozen, probe=[]))
            results = run_trials(self.s.model, self.s.stack, self.s.tok, trials, self.params,
                                 group_size=len(trials), keep_adapters=True)
            seconds = time.perf_counter() - t
            train_seconds += seconds
            folder = os.path.join(ckpt.folder, "adapters")
            k = 0
            for j in range(r, upto):
                for i in range(n_runs):
                    ad = results[k].adapter
                    assert ad is not None
                    ad.save(os.path.join(folder, f"run{i}-edit{j}"))
                    adapters[i].append(ad)
                    k += 1
            ckpt.put(f"edits-{r}-{upto}", {"seconds": seconds})
            r = upto
            self.progress(f"{arm} trained", r, self.edits)
        # Just after each edit: its own questions, served as the gateway would serve them then.
        for j in range(self.edits):
            saved = ckpt.get(f"justAfter-{j}")
            if saved is None:
                accs = self._accuracy(arm, adapters, j, [[run[j]] for run in self.runs])
                saved = ckpt.put(f"justAfter-{j}", [a[0] for a in accs])
            for i in range(n_runs):
                just_after[i].append(saved[i])
        self.progress(f"{arm} just-after measured", self.edits, self.edits)
        milestones = {}
        for m in self.milestones:
            milestones[str(m)] = ckpt.get(f"milestone-{m}") or ckpt.put(
                f"milestone-{m}", self._milestone(arm, adapters, m, just_after, base))
            self.progress(f"{arm} milestone {m}", m, self.edits)
        last = milestones[str(self.edits)]
        return {
            "efficacy": last["efficacy"]["mean"],
            "retention": last["retention"]["mean"],
            "knownFacts": last["knownFacts"]["mean"],
            "locality": last["locality"]["mean"],
            "secondsPerEdit": train_seconds / (self.edits * n_runs),
            "milestones": milestones,
            "justAfterEdit": [sum(a[j] for a in just_after) / n_runs for j in range(self.edits)],
        }

    def _milestone(self, arm: str, adapters: List[List[LoraAdapter]], m: int, just_after: List[List[float]],
                   base: Dict[str, Any]) -> Dict[str, Any]:
        upto = m - 1
        now = self._accuracy(arm, adapters, upto, [run[:m] for run in self.runs])
        earlier_now = [a for i in range(len(self.runs)) for a in now[i][: m - 1]]
        earlier_then = [a for i in range(len(self.runs)) for a in just_after[i][: m - 1]]
        facts = self._fact_hits(adapters, arm, upto)
        known_before = base["knownFacts"]
        kept = [h for run in facts for h, b in zip(run, known_before) if b > 0]
        rows = [self.s.tok.encode(t) for t in self.canaries]
        served = self._served_rows(arm, adapters, upto, self.canaries, rows, LOCALITY_TOKENS)
        agreement = [token_agreement(a, b, LOCALITY_TOKENS) for run in served for a, b in zip(run, base["canary"])]
        reading = self._reading(adapters, arm, upto)
        return {
            "edits": m,
            "efficacy": mean_ci95([a for i in range(len(self.runs)) for a in just_after[i][:m]]),
            "retention": bootstrap_ratio(earlier_now, earlier_then) if m > 1 else {"mean": 1.0, "ci95": [1.0, 1.0], "n": 0},
            "accuracyEdited": mean_ci95([a for run in now for a in run]),
            "knownFacts": mean_ci95(kept),
            "knownFactsAccuracy": sum(h for run in facts for h in run) / max(1, sum(len(run) for run in facts)),
            "locality": mean_ci95(agreement),
            "inContextQa": sum(reading) / len(reading),
        }


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="experiment:continual", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="../models/default")
    ap.add_argument("--edits", type=int, default=8, help="sequential edits per run (default 8; 32 and 100 as well)")
    ap.add_argument("--runs", type=int, default=4, help="independent sequences of edits, trained side by side")
    ap.add_argument("--first-passage", type=int, default=None,
                    help="index of the first held-out passage used (default: the last runs x edits of the eval "
                         "split); the tuning set is 100-199, the check set 200-299")
    ap.add_argument("--known-facts", type=int, default=300, help="known facts measured (default all 300 probes)")
    ap.add_argument("--reading", type=int, default=40, help="passages of in-context QA measured (reading skill)")
    ap.add_argument("--rehearsal", type=int, default=32,
                    help="rehearsal texts (rehearsal.jsonl) replayed with each mitigated edit (default 32)")
    ap.add_argument("--rehearsal-only", default="", metavar="PREFIX",
                    help="draw rehearsal texts only from entries whose id starts with PREFIX (e.g. qa-)")
    ap.add_argument("--replay-cap", type=int, default=0,
                    help="replay at most this many earlier sequences per mitigated edit (0: all of them)")
    ap.add_argument("--arms", default="naive,mitigated,routed", type=lambda v: [a for a in v.split(",") if a],
                    help=f"which arms to run, comma-separated, of {','.join(ARMS)} (default: naive,mitigated,routed)")
    ap.add_argument("--inner-update", choices=sorted(INNER_UPDATES), default="gateway",
                    help="the edits' training: the gateway's (policies/channels.yaml, default) or SEAL's")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="auto (default), cpu, cuda")
    ap.add_argument("--work", default="../runs/experiments")
    ap.add_argument("--out", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--json", action="store_true", help="print the headline figures as one JSON line last")
    args = ap.parse_args(argv)
    if args.edits < 1 or args.runs < 1:
        ap.error("--edits and --runs must be at least 1")
    if not args.arms or any(a not in ARMS for a in args.arms):
        ap.error(f"--arms takes a comma-separated subset of {','.join(ARMS)}")
    if args.known_facts < 1:
        ap.error("--known-facts must be at least 1")
    return args


def headline(result: Dict[str, Any], arms: Sequence[str]) -> Dict[str, Any]:
    keys = ("efficacy", "retention", "knownFacts", "locality", "secondsPerEdit")
    return {"edits": result["edits"], "runs": result["runs"], "firstPassage": result["firstPassage"],
            "shipped": result["shipped"], **{a: {k: result[a][k] for k in keys} for a in arms}}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        result = ContinualExperiment(Setup(args.model, args.device), args).run()
    except ValueError as e:
        print(f"experiment:continual: {e}", file=sys.stderr)
        return 2
    if args.out:
        write_json(args.out, result)
    for arm in args.arms:
        a = result[arm]
        print(f"{arm:>12}  efficacy {a['efficacy']:.3f}  retention {a['retention']:.3f}  known facts "
              f"{a['knownFacts']:.3f}  locality {a['locality']:.3f}  {a['secondsPerEdit']:.1f} s/edit", file=sys.stderr)
    if args.json:
        print(json.dumps(headline(result, args.arms)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
