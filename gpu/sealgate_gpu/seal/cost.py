"""Experiment 3: the cost of a trial (write a self-edit, train its adapter, measure it), one at a time against
several side by side in one batched pass, measured in one run on the same trials.

With `--stack-depth N`, also the cost of one edit as the gateway trains a candidate: routed (its parent's routed
adapters are not under it: it trains on the base model) against stacked (today's update without routing: on top
of the N adapters of a channel's earlier edits), the same edits alternating in one run.

Run from gpu/: python3 -m sealgate_gpu.seal.cost --model ../models/default [--trials 16] [--stack-depth 32] [--json]
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

import torch

from ..lora import LoraAdapter
from ..training import TrainParams
from .common import SEAL_INNER_UPDATE, Setup, inner_update_summary, write_json
from .self_edits import edit_sequences, generate_self_edits
from .trials import INNER_UPDATE, Trial, run_trials


def measure(setup: Setup, trials_n: int, group_size: int, seed: int) -> Dict[str, Any]:
    s = setup
    passages = s.eval_passages[:trials_n]
    t0 = time.perf_counter()
    edits = generate_self_edits(s.model, s.tok, "implications", passages, 1, seed=seed)
    generate = (time.perf_counter() - t0) / trials_n
    trials = [Trial(p, edit_sequences(s.tok, "implications", p, e[0])) for p, e in zip(passages, edits)]
    timings: Dict[str, float] = {}
    accuracy: Dict[str, float] = {}
    for label, size in (("oneAtATime", 1), ("parallel", group_size)):
        t0 = time.perf_counter()
        results = run_trials(s.model, s.stack, s.tok, trials, SEAL_INNER_UPDATE, group_size=size)
        timings[label] = (time.perf_counter() - t0) / trials_n
        accuracy[label] = sum(r.accuracy for r in results) / trials_n
    per_trial = {k: generate + v for k, v in timings.items()}
    return {
        "experiment": "cost",
        "trials": trials_n,
        "groupSize": group_size,
        "innerUpdate": inner_update_summary(SEAL_INNER_UPDATE),
        "generateSecondsPerSelfEdit": generate,
        "trainAndEvaluateSecondsPerTrial": timings,
        "secondsPerTrial": per_trial,
        "trialsPerMinute": {k: 60.0 / v for k, v in per_trial.items()},
        "parallelSpeedup": per_trial["oneAtATime"] / per_trial["parallel"],
        # The same trials either way: the accuracies agree up to float rounding (tests/test_seal.py).
        "meanAccuracy": accuracy,
        "device": s.device_info,
    }


def random_adapter(setup: Setup, params: TrainParams, seed: int) -> LoraAdapter:
    """An adapter of the shipped inner update's shape (rank and modules) with small random factors: the compute
    an earlier edit adds under a candidate does not depend on what it learnt."""
    gen = torch.Generator().manual_seed(seed)
    weights = {}
    for path, layer in setup.stack.layers.items():
        if path.rsplit(".", 1)[-1] in params.lora.target_modules:
            r = params.lora.r
            weights[path] = (torch.randn(r, layer.in_features, generator=gen) * 0.01,
                             torch.randn(layer.out_features, r, generator=gen) * 0.01)
    return LoraAdapter(dataclasses.replace(params.lora, inference_mode=True), weights)


def routed_against_stacked(setup: Setup, depth: int, edits: int, seed: int) -> Dict[str, Any]:
    """Seconds to train one edit alone on the base model (routed) and on top of `depth` adapters (stacked)."""
    s = setup
    passages = s.eval_passages[:edits]
    texts = generate_self_edits(s.model, s.tok, "implications", passages, 1, seed=seed)
    stack = [random_adapter(s, INNER_UPDATE, seed + i) for i in range(depth)]
    seconds: Dict[str, List[float]] = {"routed": [], "stacked": []}
    for p, e in zip(passages, texts):
        for arm, frozen in (("routed", []), ("stacked", stack)):
            trial = Trial(p, edit_sequences(s.tok, "implications", p, e[0]), frozen=list(frozen))
            t0 = time.perf_counter()
            run_trials(s.model, s.stack, s.tok, [trial], INNER_UPDATE, group_size=1)
            seconds[arm].append(time.perf_counter() - t0)
    median = {arm: sorted(v)[len(v) // 2] for arm, v in seconds.items()}
    return {"stackDepth": depth, "edits": edits, "innerUpdate": inner_update_summary(INNER_UPDATE),
            "secondsPerEdit": median, "runs": seconds, "routedOverStacked": median["routed"] / median["stacked"]}


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="experiment:cost", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="../models/default")
    ap.add_argument("--trials", type=int, default=16)
    ap.add_argument("--group-size", type=int, default=16, help="trials side by side in the parallel arm")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--stack-depth", type=int, default=0,
                    help="also time one edit routed against stacked on this many earlier adapters (0: skip)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.trials < 1 or args.group_size < 1:
        ap.error("--trials and --group-size must be at least 1")
    setup = Setup(args.model, args.device)
    if args.stack_depth > 0:
        stacked = routed_against_stacked(setup, args.stack_depth, min(args.trials, 8), args.seed)
        print(f"one edit routed: {stacked['secondsPerEdit']['routed']:.2f} s; on {args.stack_depth} adapters: "
              f"{stacked['secondsPerEdit']['stacked']:.2f} s ({stacked['routedOverStacked']:.2f}x)", file=sys.stderr)
        if args.out:
            write_json(args.out, stacked)
        if args.json:
            print(json.dumps(stacked))
        return 0
    result = measure(setup, args.trials, args.group_size, args.seed)
    if args.out:
        write_json(args.out, result)
    print(f"one at a time: {result['secondsPerTrial']['oneAtATime']:.2f} s/trial; "
          f"{args.group_size} side by side: {result['secondsPerTrial']['parallel']:.2f} s/trial "
          f"({result['parallelSpeedup']:.2f}x)", file=sys.stderr)
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
