"""Experiment 1: knowledge incorporation from one passage, SEAL's table on the default world.

Conditions, each measured as closed-book accuracy on the passage's questions after one inner update:
  base      no update;
  passage   trained on the passage alone;
  selfEdit  the passage and the base model's own implications;
  rewrite, selfQa   the same with SEAL's other prompt families;
  seal1, seal2      implications written by the generator after 1 and 2 ReST-EM rounds (on the train split).
The evaluation passages are the world's held-out `eval` split, never seen in pretraining nor in ReST-EM.

Run from gpu/: python3 -m sealgate_gpu.seal.knowledge --model ../models/default --passages 200 [--json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from ..training import TrainParams
from .common import (SEAL_INNER_UPDATE, Checkpoint, Progress, Setup, inner_update_summary, mean_ci95,
                     paired_difference, write_json)
from .rest_em import RestEm, RestEmSettings
from .self_edits import FAMILIES, edit_sequences, generate_self_edits, passage_sequences
from .trials import Trial, closed_book_accuracy, run_trials

FAMILY_OF = {"selfEdit": "implications", "rewrite": "rewrite", "selfQa": "self-qa"}


class KnowledgeExperiment:
    def __init__(self, setup: Setup, args: argparse.Namespace, params: TrainParams = SEAL_INNER_UPDATE) -> None:
        self.s = setup
        self.args = args
        self.params = params
        self.passages = setup.eval_passages[: args.passages]
        settings = {
            "passages": args.passages, "samples": args.samples, "seed": args.seed, "rounds": args.rounds,
            "trainPassages": args.train_passages, "k": args.k, "innerUpdate": inner_update_summary(params),
        }
        self.work = os.path.join(args.work, "knowledge", f"p{args.passages}-s{args.samples}-seed{args.seed}"
                                 f"-r{args.rounds}-t{args.train_passages}-k{args.k}")
        self.ckpt = Checkpoint(self.work, settings)
        self.progress = Progress("knowledge")
        self.trial_seconds: List[float] = []

    # Per passage accuracy (mean over `samples` self-edits) for one condition on the current model.
    def _condition(self, name: str, family: Optional[str], seed: int) -> List[float]:
        done = self.ckpt.get(name)
        if done is not None:
            return done["perPassage"]
        s, tok = self.s, self.s.tok
        if family is None:
            trials = [Trial(p, passage_sequences(tok, p)) for p in self.passages]
            samples = 1
            edits: List[List[str]] = [[] for _ in self.passages]
        else:
            samples = self.args.samples
            self.progress(f"{name}: writing {samples} self-edit(s) per passage")
            edits = generate_self_edits(s.model, tok, family, self.passages, samples, seed=seed)
            trials = [Trial(p, edit_sequences(tok, family, p, e), seed=j)
                      for p, es in zip(self.passages, edits) for j, e in enumerate(es)]
        t0 = time.perf_counter()
        results = run_trials(s.model, s.stack, tok, trials, self.params, self.args.group_size,
                             on_progress=lambda d, n: self.progress(f"{name} trials", d, n))
        self.trial_seconds.append((time.perf_counter() - t0) / max(1, len(trials)))
        acc = [r.accuracy for r in results]
        per_passage = [sum(acc[i * samples:(i + 1) * samples]) / samples for i in range(len(self.passages))]
        example = {"passage": self.passages[0].id, "selfEdit": edits[0][0] if edits[0] else None}
        self.ckpt.put(name, {"perPassage": per_passage, "example": example})
        return per_passage

    def run(self) -> Dict[str, Any]:
        s = self.s
        t_start = time.perf_counter()
        per: Dict[str, List[float]] = {}
        if self.ckpt.get("base") is None:
            self.ckpt.put("base", {"perPassage": closed_book_accuracy(s.model, s.stack, s.tok, self.passages)})
        per["base"] = self.ckpt.get("base")["perPassage"]
        per["passage"] = self._condition("passage", None, 0)
        for name, family in FAMILY_OF.items():
            per[name] = self._condition(name, family, seed=self.args.seed + FAMILIES.index(family))
        rest = RestEm(s, s.train_passages[: self.args.train_passages], RestEmSettings(
            k=self.args.k, seed=self.args.seed, group_size=self.args.group_size),
            self.params, os.path.join(self.work, "rest-em"), self.progress)
        rounds = []
        for r in range(1, self.args.rounds + 1):
            summary = rest.round(r)  # pushes the round's generator adapter onto the stack
            rounds.append(summary)
            base_r = f"seal{r}Base"
            if self.ckpt.get(base_r) is None:
                self.ckpt.put(base_r, {"perPassage": closed_book_accuracy(s.model, s.stack, s.tok, self.passages)})
            per[base_r] = self.ckpt.get(base_r)["perPassage"]
            per[f"seal{r}"] = self._condition(f"seal{r}", "implications", seed=self.args.seed + 10 * r)
        conditions = {name: mean_ci95(v) for name, v in per.items()}
        # What ReST-EM adds over the base model's own self-edits, passage by passage.
        paired = {f"seal{r}MinusSelfEdit": paired_difference(per[f"seal{r}"], per["selfEdit"])
                  for r in range(1, self.args.rounds + 1)}
        examples = {n: self.ckpt.get(n).get("example") for n in per if self.ckpt.get(n).get("example")}
        return {
            "experiment": "knowledge",
            "passages": len(self.passages),
            "samplesPerPassage": self.args.samples,
            "innerUpdate": inner_update_summary(self.params),
            "conditions": conditions,
            "paired": paired,
            "restEm": rounds,
            "examples": examples,
            "secondsPerTrial": (sum(self.trial_seconds) / len(self.trial_seconds)) if self.trial_seconds else None,
            "seconds": time.perf_counter() - t_start,
            "device": s.device_info,
        }


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="experiment:knowledge", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="../models/default")
    ap.add_argument("--passages", type=int, default=200, help="held-out passages evaluated (default 200)")
    ap.add_argument("--samples", type=int, default=1, help="self-edits sampled per passage and condition")
    ap.add_argument("--rounds", type=int, default=2, help="ReST-EM rounds (0 skips seal1/seal2)")
    ap.add_argument("--train-passages", type=int, default=100, help="train-split passages per ReST-EM round")
    ap.add_argument("--k", type=int, default=5, help="self-edits sampled per passage in a ReST-EM round")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--group-size", type=int, default=32, help="trials trained side by side in one pass")
    ap.add_argument("--device", default=None, help="auto (default), cpu, cuda")
    ap.add_argument("--work", default="../runs/experiments", help="checkpoints: a rerun resumes from them")
    ap.add_argument("--out", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line last")
    args = ap.parse_args(argv)
    for name in ("passages", "samples", "k", "group_size"):
        if getattr(args, name) < 1:
            ap.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rounds < 0 or args.rounds > 5:
        ap.error("--rounds must be between 0 and 5")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    setup = Setup(args.model, args.device)
    if args.passages > len(setup.eval_passages):
        print(f"error: the world has {len(setup.eval_passages)} held-out passages", file=sys.stderr)
        return 2
    result = KnowledgeExperiment(setup, args).run()
    if args.out:
        write_json(args.out, result)
    for name, c in {**result["conditions"], **result["paired"]}.items():
        print(f"{name:>10}  {c['mean']:.3f}  [{c['ci95'][0]:.3f}, {c['ci95'][1]:.3f}]  n={c['n']}", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

