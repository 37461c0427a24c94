"""Reproducing the shipped default model (``npm run train:base``), one resumable command:

    python3 -m sealgate_gpu.build_default --out ../models/default --work ../runs/build-default

1. generates the world (seed 7) into <work>/world;
2. pretrains from scratch in two phases (sealgate_gpu.pretrain), each resuming from its own checkpoint:
   - skills: the task-heavy MIXTURE, the first SKILLS_STEPS steps of a 5500-step schedule (reading from the
     context emerges by step ~2000: in-context QA went from 43% at step 1000 to 93% at 2000);
   - consolidation: from the skills checkpoint, a knowledge-heavy mixture (biographies and closed-book QA about
     half the tokens, the tasks kept so the skills stay) on a fresh warm-up and cosine schedule;
3. writes the Hugging Face folder to --out, exports model.onnx, and copies the world files the gateway uses
   (everything but the task files, which the generator and TaskFactory reproduce);
4. measures the model card figures on the held-out data into <out>/evaluation.json.
Run it again after an interruption: finished steps are skipped, the pretraining resumes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from . import model_card
from .device import configure_threads
from .evaluate import evaluate
from .model import LlamaForCausalLM
from .onnx_export import ONNX_NAME, export_onnx, write_reference
from .pretrain import PretrainConfig, run
from .world.generate import SCALES, write
from .world.tokenizer import Tokenizer

SKILLS_STEPS = 2294  # where the skills run was stopped (its checkpoint), once reading had emerged
CONSOLIDATION_MIXTURE: Dict[str, float] = {
    "bio": 9.0,
    "closed-book": 9.0,
    "in-context": 2.0,
    "counterfactual": 1.0,
    "implications": 1.5,
    "rewrite": 0.3,
    "self-qa": 0.5,
    "repeat": 0.2,
    "lookup": 0.2,
}


def phases(seed: int, consolidation_steps: int) -> Tuple[PretrainConfig, PretrainConfig]:
    skills = PretrainConfig(seed=seed, steps=5500)
    # The next seed: a stream of other fresh names than the skills phase saw.
    consolidation = PretrainConfig(seed=seed + 1, steps=consolidation_steps, lr=1.5e-3, warmup_steps=100,
                                   mixture=dict(CONSOLIDATION_MIXTURE))
    return skills, consolidation


# World files the gateway reads (experiments, gates, evaluation); the task files are training data only.
SHIPPED_WORLD_FILES = (
    "manifest.json", "world.json", "templates.json", "pretrain.jsonl", "qa_known.jsonl", "heldout.jsonl",
    "heldout_closed_book.jsonl", "counterfactual.jsonl", "probes_forgetting.jsonl", "probes_bias.jsonl",
    "probes_canary.jsonl",
)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sealgate_gpu.build_default", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the model folder to write (e.g. ../models/default)")
    ap.add_argument("--work", required=True, help="world, checkpoints and logs (kept for resuming)")
    ap.add_argument("--seed", type=int, default=7, help="world seed")
    ap.add_argument("--consolidation-steps", type=int, default=4500)
    ap.add_argument("--device", help="auto (default), cpu, cuda")
    ap.add_argument("--parity-fixture", help="also write the ONNX parity fixture folder for the TypeScript tests")
    args = ap.parse_args(argv)
    configure_threads()

    world_dir = os.path.join(args.work, "world")
    if not os.path.exists(os.path.join(world_dir, "manifest.json")):
        print(f"generating the world (seed {args.seed}) into {world_dir}", flush=True)
        write(world_dir, args.seed, SCALES["full"](), "full")
    skills, consolidation = phases(args.seed, args.consolidation_steps)
    skills_dir = os.path.join(args.work, "pretrain")
    first = run(world_dir, skills_dir, None, skills, eval_every=500, checkpoint_minutes=5.0,
                device_pref=args.device, stop_at=SKILLS_STEPS)
    second = run(world_dir, os.path.join(args.work, "consolidate"), args.out, consolidation, eval_every=500,
                 checkpoint_minutes=5.0, device_pref=args.device,
                 init_from=os.path.join(skills_dir, "checkpoint.pt"))
    write_training_record(args.out, first, second)

    export_onnx(LlamaForCausalLM.from_pretrained(args.out), os.path.join(args.out, ONNX_NAME))
    print(f"exported {os.path.join(args.out, ONNX_NAME)}", flush=True)
    if args.parity_fixture:
        write_reference(args.out, args.parity_fixture,
                        "Let's answer a question directly and concisely.\nQuestion: Who")
    shipped = os.path.join(args.out, "world")
    os.makedirs(shipped, exist_ok=True)
    for name in SHIPPED_WORLD_FILES:
        shutil.copyfile(os.path.join(world_dir, name), os.path.join(shipped, name))
    write_rehearsal_corpus(shipped, os.path.join(args.out, "rehearsal.jsonl"))

    model = LlamaForCausalLM.from_pretrained(args.out)
    model.set_attention_implementation("eager")
    figures = evaluate(model, Tokenizer.from_file(os.path.join(args.out, "tokenizer.json")), shipped)
    with open(os.path.join(args.out, "evaluation.json"), "w", encoding="utf-8") as f:
        json.dump(figures, f, indent=2)
        f.write("\n")
    print(json.dumps(figures), flush=True)
    print(f"wrote {model_card.write(args.out)}", flush=True)
    return 0


REHEARSAL_TEXTS = 512
REHEARSAL_SEED = 20261125


def write_rehearsal_corpus(world_dir: str, path: str) -> None:
    """rehearsal.jsonl, replayed with new edits against forgetting (channel policy `training.replay.rehearsal` and
    the continual experiment's mitigation): half biographies from the pretraining corpus, half closed-book
    question-answer pairs the model was trained on, leaving out every fact the forgetting probes measure."""
    def read(name: str) -> List[Dict[str, object]]:
        with open(os.path.join(world_dir, name), encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    probed = {(p["entity_id"], p["relation"]) for p in read("probes_forgetting.jsonl")}
    bios = [{"id": r["id"], "text": r["text"]} for r in read("pretrain.jsonl") if r["kind"] == "bio"]
    qa = [{"id": r["id"], "text": f"{r['prompt']}{r['completion']}"} for r in read("qa_known.jsonl")
          if r["split"] == "train" and (r["entity_id"], r["relation"]) not in probed]
    rng = random.Random(REHEARSAL_SEED)
    rng.shuffle(bios)
    rng.shuffle(qa)
    texts = [t for pair in zip(bios[: REHEARSAL_TEXTS // 2], qa[: REHEARSAL_TEXTS // 2]) for t in pair]
    with open(path, "w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps(t, ensure_ascii=False) + "\n")


def write_training_record(out: str, skills: Dict[str, object], consolidation: Dict[str, object]) -> None:
    """training.json: both phases (steps, tokens, minutes, loss, configuration, device) and the model size."""
    model = LlamaForCausalLM.from_pretrained(out)
    record = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "phases": [{"name": "skills", **skills}, {"name": "consolidation", **consolidation}],
    }
    with open(os.path.join(out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    sys.exit(main())
