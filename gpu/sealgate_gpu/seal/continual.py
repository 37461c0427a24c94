"""Experiment 2: continual updates, 8 passages applied one after another.

Each run takes 8 held-out passages no other experiment uses (from the end of the eval split). The base model
writes one implications self-edit per passage; edit r is trained as a new adapter on top of the run's stack of
edits 0..r-1 (the gateway's rank-concatenated stack), then every passage of the run and a set of facts the base
model knew are measured closed-book. The arms:
  naive      edit r trains on its own sequences only;
  mitigated  edit r also replays the training sequences of the run's earlier edits and a few texts of the
             model's rehearsal corpus (the gateway's `training.replay` policy does the same with a channel's
             applied edits).
  consolidated  (only with --arms) like mitigated, but edit r trains on the base model and its adapter replaces
             the run's stack instead of going on top of it: one adapter holds every edit so far. The gateway does
             not offer this yet (its lineage stacks adapters); the arm measures what it would keep.
Runs train side by side (one group each), so all runs of an arm share every batched pass. Every arm trains with
one inner update: the gateway's own (policies/channels.yaml: rank 16 on every projection, lr 3e-3, batch 8; the
default) or, with `--inner-update seal`, SEAL's (rank 32 on q/v, lr 1e-3, batch 1).

Run from gpu/: python3 -m sealgate_gpu.seal.continual --model ../models/default [--runs 4] [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import torch

from ..evaluate import read_jsonl
from ..lora import LoraAdapter
from ..training import TokenSequence, TrainParams
from .common import SEAL_INNER_UPDATE, Checkpoint, Progress, Setup, inner_update_summary, write_json
from .self_edits import Passage, edit_sequences, generate_self_edits, text_sequence
from .trials import INNER_UPDATE, Trial, closed_book_accuracy, run_trials

EDITS = 8
ARMS = ("naive", "mitigated", "consolidated")
INNER_UPDATES = {"seal": SEAL_INNER_UPDATE, "gateway": INNER_UPDATE}


def known_facts(model_dir: str, n: int) -> Passage:
    """n facts the base model was trained on (the forgetting probes), as one probe passage."""
    probes = read_jsonl(os.path.join(model_dir, "world", "probes_forgetting.jsonl"))[:n]
    questions = [{"question": p["question"], "answer": p["answer"], "aliases": p.get("aliases") or []} for p in probes]
    return Passage("known-facts", "", "", questions)


def rehearsal_sequences(setup: Setup, n: int, seed: int, only: str = "") -> List[TokenSequence]:
    """n texts of the model's rehearsal corpus (rehearsal.jsonl: pretraining biographies and known
    question-answer pairs), drawn at random, optionally only those whose id starts with `only`; the gateway's
    `training.replay.rehearsal` draws from the same file."""
    corpus = read_jsonl(os.path.join(setup.model_dir, "rehearsal.jsonl"))
    corpus = [r for r in corpus if str(r["id"]).startswith(only)]
    gen = torch.Generator().manual_seed(seed)
    picks = torch.randint(len(corpus), (n,), generator=gen).tolist()
    return [text_sequence(setup.tok, str(corpus[j]["text"])) for j in picks]


def retention_summary(matrix: List[List[float]]) -> Dict[str, Any]:
    """matrix[r][i]: accuracy on passage i after edits 0..r. Retention compares the end with just after."""
    last = len(matrix) - 1
    earlier = range(last)
    just_after = [matrix[i][i] for i in earlier]
    at_end = [matrix[last][i] for i in earlier]
    return {
        # Accuracy the earlier passages keep after the last edit, as a fraction of their just-after-edit accuracy.
        "meanRetention": sum(at_end) / sum(just_after) if sum(just_after) > 0 else 0.0,
        # Backward transfer (Lopez-Paz & Ranzato 2017): mean change on earlier passages from just after to the end.
        "backwardTransfer": sum(e - j for e, j in zip(at_end, just_after)) / last,
        # Forgetting (Chaudhry et al. 2018): mean drop from each earlier passage's best accuracy to the end.
        "forgetting": sum(max(matrix[r][i] for r in range(i, last)) - matrix[last][i] for i in earlier) / last,
        "meanAccuracyAfterEach": [sum(matrix[r][: r + 1]) / (r + 1) for r in range(len(matrix))],
        "justAfterEdit": [matrix[i][i] for i in range(len(matrix))],
    }


class ContinualExperiment:
    def __init__(self, setup: Setup, args: argparse.Namespace) -> None:
        self.s = setup
        self.args = args
        self.params: TrainParams = INNER_UPDATES[args.inner_update]
        first = len(setup.eval_passages) - args.runs * EDITS if args.first_passage is None else args.first_passage
        pool = setup.eval_passages[first:first + args.runs * EDITS]
        if first < 0 or len(pool) < args.runs * EDITS:
            raise ValueError(f"--runs {args.runs} from passage {first} needs more held-out passages than there are")
        self.runs = [pool[i * EDITS:(i + 1) * EDITS] for i in range(args.runs)]
        self.known = known_facts(setup.model_dir, args.known_facts)
        self.rehearsal = rehearsal_sequences(
            setup, args.runs * EDITS * args.rehearsal, args.seed, args.rehearsal_only)
        naive = {"runs": args.runs, "first": first, "seed": args.seed, "knownFacts": args.known_facts,
                 "innerUpdate": inner_update_summary(self.params)}
        mitigated = {**naive, "rehearsal": args.rehearsal, "rehearsalOnly": args.rehearsal_only,
                     "replayCap": args.replay_cap}
        # SEAL's runs keep the folder they had before the option existed, so their checkpoints still resume.
        inner = "" if args.inner_update == "seal" else f"-{args.inner_update}"
        folder = os.path.join(args.work, "continual", f"runs{args.runs}-from{first}-seed{args.seed}{inner}")
        rehearsal = f"rh{args.rehearsal}{args.rehearsal_only}"
        self.ckpt = {
            "naive": Checkpoint(os.path.join(folder, "naive"), naive),
            "mitigated": Checkpoint(os.path.join(folder, f"mitigated-{rehearsal}-cap{args.replay_cap}"), mitigated),
            "consolidated": Checkpoint(os.path.join(folder, f"consolidated-{rehearsal}"),
                                       {**mitigated, "consolidated": True}),
        }
        self.progress = Progress("continual")

    def run(self) -> Dict[str, Any]:
        s, tok = self.s, self.s.tok
        t0 = time.perf_counter()
        flat = [p for run in self.runs for p in run]
        ckpt = self.ckpt["naive"]
        edits = ckpt.get("edits") or ckpt.put(
            "edits", [e[0] for e in generate_self_edits(s.model, tok, "implications", flat, 1, seed=self.args.seed)])
        sequences = [[edit_sequences(tok, "implications", p, edits[i * EDITS + r]) for r, p in enumerate(run)]
                     for i, run in enumerate(self.runs)]
        base = closed_book_accuracy(s.model, s.stack, tok, flat + [self.known])
        arms = {arm: self.ckpt[arm].get(arm) or self.ckpt[arm].put(arm, self._arm(arm, sequences))
                for arm in self.args.arms}
        return {
            "experiment": "continual",
            "runs": len(self.runs),
            "passages": [p.id for run in self.runs for p in run],
            "edits": EDITS,
            "innerUpdate": inner_update_summary(self.params),
            "baseAccuracy": sum(base[:-1]) / len(flat),
            "baseKnownFacts": base[-1],
            **arms,
            "seconds": time.perf_counter() - t0,
            "device": s.device_info,
        }

    def _replay(self, earlier: List[TokenSequence], seed: int) -> List[TokenSequence]:
        """The earlier edits' sequences, or a random `--replay-cap` of them so an edit's cost stays bounded."""
        cap = self.args.replay_cap
        if not cap or len(earlier) <= cap:
            return earlier
        order = torch.randperm(len(earlier), generator=torch.Generator().manual_seed(seed)).tolist()
        return [earlier[j] for j in order[:cap]]

    def _arm(self, arm: str, sequences: List[List[List[TokenSequence]]]) -> Dict[str, Any]:
        """Per run, the retention matrix (edits x passages) and known-fact accuracy after each edit."""
        stacks: List[List[LoraAdapter]] = [[] for _ in self.runs]
        matrices: List[List[List[float]]] = [[] for _ in self.runs]
        known: List[List[float]] = [[] for _ in self.runs]
        for r in range(EDITS):
            trials = []
            for i, run in enumerate(self.runs):
                seqs = list(sequences[i][r])
                if arm in ("mitigated", "consolidated"):
                    seqs += self._replay([q for earlier in sequences[i][:r] for q in earlier], seed=i * EDITS + r)
                    seqs += self.rehearsal[(i * EDITS + r) * self.args.rehearsal:(i * EDITS + r + 1) * self.args.rehearsal]
                # consolidated: trained on the base model, every earlier edit replayed; it replaces the stack
                frozen = [] if arm == "consolidated" else list(stacks[i])
                trials.append(Trial(run[r], seqs, seed=r, frozen=frozen, probe=[*run, self.known]))
            results = run_trials(self.s.model, self.s.stack, self.s.tok, trials, self.params,
                                 group_size=len(trials), keep_adapters=True)
            for i, res in enumerate(results):
                assert res.adapter is not None
                stacks[i] = [res.adapter] if arm == "consolidated" else stacks[i] + [res.adapter]
                matrices[i].append(res.probe_accuracy[:EDITS])
                known[i].append(res.probe_accuracy[EDITS])
            self.progress(f"{arm} edit {r + 1}", r + 1, EDITS)
        mean_matrix = [[sum(m[r][j] for m in matrices) / len(matrices) for j in range(EDITS)] for r in range(EDITS)]
        summary = retention_summary(mean_matrix)
        per_run = [retention_summary(m)["meanRetention"] for m in matrices]
        return {
            "matrix": mean_matrix,
            **summary,
            "meanRetentionPerRun": per_run,
            "knownFactsAfterEach": [sum(k[r] for k in known) / len(known) for r in range(EDITS)],
        }


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="experiment:continual", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="../models/default")
    ap.add_argument("--runs", type=int, default=4, help="independent sequences of 8 passages (default 4)")
    ap.add_argument("--first-passage", type=int, default=None,
                    help="index of the first held-out passage used (default: the last runs x 8 of the eval split, "
                         "which the knowledge experiment's first 200 never reach)")
    ap.add_argument("--known-facts", type=int, default=60, help="known facts measured after each edit")
    ap.add_argument("--rehearsal", type=int, default=32,
                    help="rehearsal texts (rehearsal.jsonl) replayed with each mitigated edit (default 32)")
    ap.add_argument("--rehearsal-only", default="", metavar="PREFIX",
                    help="draw rehearsal texts only from entries whose id starts with PREFIX (e.g. qa-)")
    ap.add_argument("--replay-cap", type=int, default=0,
                    help="replay at most this many earlier sequences per mitigated edit (0: all of them)")
    ap.add_argument("--arms", default="naive,mitigated", type=lambda v: [a for a in v.split(",") if a],
                    help=f"which arms to run, comma-separated, of {','.join(ARMS)} (default: naive,mitigated)")
    ap.add_argument("--inner-update", choices=sorted(INNER_UPDATES), default="gateway",
                    help="the edits' training: the gateway's (policies/channels.yaml, default) or SEAL's")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None, help="auto (default), cpu, cuda")
    ap.add_argument("--work", default="../runs/experiments")
    ap.add_argument("--out", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line last")
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 12:
        ap.error("--runs must be between 1 and 12 (the world holds 100 passages no other experiment uses)")
    if not args.arms or any(a not in ARMS for a in args.arms):
        ap.error(f"--arms takes a comma-separated subset of {','.join(ARMS)}")
    if args.known_facts < 1:
        ap.error("--known-facts must be at least 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    result = ContinualExperiment(Setup(args.model, args.device), args).run()
    if args.out:
        write_json(args.out, result)
    for arm in args.arms:
        a = result[arm]
        print(f"{arm:>10}  retention {a['meanRetention']:.3f}  BWT {a['backwardTransfer']:+.3f}  "
              f"forgetting {a['forgetting']:.3f}  known facts {a['knownFactsAfterEach'][-1]:.3f}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
