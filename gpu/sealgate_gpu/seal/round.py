"""One ReST-EM round on a channel's model, for the gateway: the generator's update that comes out of it is an
adapter (PEFT folder) that the gateway puts through the same lifecycle as any other change.

Run from gpu/: python3 -m sealgate_gpu.seal.round --model DIR [--adapter FOLDER ...] --passages FILE.jsonl
    --work DIR [--k 5] [--seed 0] [--json]
FILE.jsonl holds one passage per line: {"id", "title", "passage", "questions": [{"question", "answer",
"aliases"}]}. Progress goes to stderr, one line per step; with --json the last stdout line is the summary, with
`adapterDir` and `device`. Rerun with the same --work to resume: finished steps are not redone.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional, Sequence

from ..evaluate import read_jsonl
from ..lora import LoraAdapter
from .common import SEAL_INNER_UPDATE, Progress, Setup
from .rest_em import RestEm, RestEmSettings
from .self_edits import Passage


def read_passages(path: str) -> List[Passage]:
    passages = []
    for i, rec in enumerate(read_jsonl(path), 1):
        missing = [k for k in ("id", "title", "passage", "questions") if k not in rec]
        if missing:
            raise ValueError(f"{path}:{i}: missing {', '.join(missing)}")
        if not rec["questions"]:
            raise ValueError(f"{path}:{i}: a passage needs questions (the reward is measured on them)")
        passages.append(Passage.from_record(rec))
    if not passages:
        raise ValueError(f"{path}: no passages")
    return passages


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="seal-round", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter", action="append", default=[], help="the channel's stack, base first (repeat)")
    ap.add_argument("--passages", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--group-size", type=int, default=32)
    ap.add_argument("--device", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.k < 1 or args.group_size < 1:
        ap.error("--k and --group-size must be at least 1")
    try:
        passages = read_passages(args.passages)
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    setup = Setup(args.model, args.device)
    for i, folder in enumerate(args.adapter):
        setup.stack.push(LoraAdapter.load(folder), name=f"stack-{i}")
    rest = RestEm(setup, passages, RestEmSettings(k=args.k, seed=args.seed, group_size=args.group_size),
                  SEAL_INNER_UPDATE, args.work, Progress("round"))
    try:
        summary = rest.round(1)
    except RuntimeError as e:  # no self-edit improved any passage
        print(f"error: {e}", file=sys.stderr)
        return 3
    summary["adapterDir"] = os.path.abspath(rest.generator_folder(1))
    summary["device"] = str(setup.device)
    if args.json:
        print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
