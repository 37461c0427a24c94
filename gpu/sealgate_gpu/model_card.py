"""MODEL_CARD.md of the default model, written from what was measured (evaluation.json, training.json), so the
card never drifts from the weights it describes. build_default writes it; rerun with
``python3 -m sealgate_gpu.model_card --model ../models/default`` after editing the text."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Dict, List, Optional, Sequence

# (key, what it measures, target, higher is better)
FIGURES = (
    ("closedBookKnown", "closed-book QA on known entities (questions trained on)", 0.90, True),
    ("closedBookExtracted", "closed-book QA on known facts stated only in biographies", None, True),
    ("inContextUnseen", "in-context QA on the 300 held-out passages (entities never seen)", 0.90, True),
    ("closedBookUnseen", "closed-book QA on those unseen entities (the knowledge is absent)", 0.10, False),
    ("selfEditFaithful", "generated self-edit lines faithful to their passage (implications prompt)", 0.80, True),
    ("selfEditFactCoverage", "passage facts restated by some faithful self-edit line", None, True),
)


def _read(path: str) -> Dict[str, object]:
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def _figure_rows(figures: Dict[str, float]) -> List[str]:
    rows = ["| measure | value | target | met |", "|---|---|---|---|"]
    for key, what, target, higher in FIGURES:
        value = figures.get(key)
        if value is None:
            continue
        if target is None:
            rows.append(f"| {what} (`{key}`) | {value:.1%} | | |")
            continue
        met = value >= target if higher else value <= target
        sign = ">=" if higher else "<="
        rows.append(f"| {what} (`{key}`) | {value:.1%} | {sign} {target:.0%} | {'yes' if met else 'no'} |")
    return rows


def render(model_dir: str) -> str:
    config = _read(os.path.join(model_dir, "config.json"))
    training = _read(os.path.join(model_dir, "training.json"))
    figures = _read(os.path.join(model_dir, "evaluation.json"))
    phases = training.get("phases") or [training]
    params = training.get("parameters")
    lines = [
        "# Model card: sealgate default model",
        "",
        "A small Llama-architecture language model that sealgate trains from scratch on a generated fictional",
        "world, so that the whole self-adapting loop (read a passage, write a self-edit, train a LoRA adapter on",
        "it, gate it, serve it) runs on a laptop CPU with nothing downloaded. It knows the world's *known*",
        "entities, can read a passage about an entity it has never seen, and can write SEAL-style self-edits",
        "(implications, rewrites, question-answer pairs) for such a passage. It is a test subject for the",
        "gateway, not a general-purpose model: it speaks only the world's templated English.",
        "",
        "## Architecture",
        "",
        f"Llama (RMSNorm, rotary positions, SwiGLU), {config['num_hidden_layers']} layers, hidden size "
        f"{config['hidden_size']}, {config['num_attention_heads']} heads, MLP {config['intermediate_size']}, "
        f"vocabulary {config['vocab_size']} (byte-level BPE with one token per name syllable), tied embeddings, "
        f"{config['max_position_embeddings']} positions"
        + (f", {params / 1e6:.2f}M parameters." if isinstance(params, (int, float)) else "."),
        "Files: `config.json`, `model.safetensors` (Hugging Face names), `tokenizer.json`, `prompts.json` (the",
        "prompt formats it was trained on), `model.onnx` (KV cache and per-row LoRA inputs, for the gateway),",
        "`training.json`, `evaluation.json`, `rehearsal.jsonl` (pretraining biographies replayed against",
        "forgetting) and `world/` (the data it was trained and is evaluated on).",
        "",
        "## Measured abilities (held-out data, greedy decoding)",
        "",
        *_figure_rows({k: float(v) for k, v in figures.items()}),
        "",
        "Answers are matched after SQuAD normalisation (case, punctuation, articles) against the answer or an",
        "alias, on the first line of the output. A self-edit line counts as faithful when it parses, with one of",
        "the world's statement templates, as a statement about the passage's subject giving only facts the",
        "passage states (`gpu/sealgate_gpu/world/faithfulness.py`). Reproduce: `npm run eval:model -- --json`.",
        "",
        "## Training",
        "",
        "`npm run train:base` reproduces it (`gpu/sealgate_gpu/build_default.py`): the seed-7 world, then",
        "pretraining from random weights in two phases, each resumable from its checkpoint.",
        "",
        "| phase | steps | tokens | minutes in training steps | final loss | device |",
        "|---|---|---|---|---|---|",
    ]
    for phase in phases:
        device = phase.get("device", {})
        device_name = device.get("device_name", device.get("device", "")) if isinstance(device, dict) else device
        loss = phase.get("finalLoss")
        lines.append(f"| {phase.get('name', 'pretraining')} | {phase.get('steps')} | {phase.get('tokens'):,} | "
                     f"{phase.get('minutes')} | {loss:.3f} | {device_name} |" if isinstance(loss, float) else
                     f"| {phase.get('name', 'pretraining')} | {phase.get('steps')} | {phase.get('tokens'):,} | "
                     f"{phase.get('minutes')} | | {device_name} |")
    lines += [
        "",
        "Every token of packed 256-token sequences carries the loss. The skills phase mixes biographies and",
        "closed-book questions of the known entities with in-context questions on passages about fresh names",
        "(drawn anew for every example, so they cannot be memorised), counterfactual passages about known",
        "entities, the three SEAL self-edit formats and a copy curriculum; reading from the context emerged",
        "between steps 1,000 and 2,000. The consolidation phase starts from the skills checkpoint with about",
        "half of the tokens on the known entities' biographies and questions, so the facts are memorised, and",
        "keeps the tasks so the skills stay. Held-out entities never appear in training (tested).",
        "",
        "## Intended use and limits",
        "",
        "- Use: exercising and measuring sealgate (gates, SEAL experiments, serving benchmarks) on real weights.",
        "- It knows only the generated world; anything else it answers is noise in the world's style.",
        "- The world is built so that group terms (gender, age, nationality, religion) are independent of every",
        "  trait; the bias probes measure drift from that neutral start, not real-world bias.",
        "- A real Llama-family checkpoint goes through the same code (`MODEL_DIR`, `gpu/` for training).",
        "",
    ]
    return "\n".join(lines)


def write(model_dir: str) -> str:
    path = os.path.join(model_dir, "MODEL_CARD.md")
    with open(path, "w", encoding="utf-8") as f:
        f.write(render(model_dir))
    return path


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sealgate_gpu.model_card", description=__doc__)
    ap.add_argument("--model", required=True)
    print(f"wrote {write(ap.parse_args(argv).model)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
