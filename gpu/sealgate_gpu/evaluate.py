"""Measuring a model on the world's question sets: closed-book QA, in-context QA, and the faithfulness of the
self-edits it writes. Used by pretraining (progress checks) and for the model card."""
from __future__ import annotations

import json
import os
from typing import Dict, Iterable, List, Optional, Sequence

from .model import LlamaForCausalLM, greedy_rows
from .world.faithfulness import line_faithful, mention_of
from .world.render import prompt
from .world.templates import answer_matches
from .world.tokenizer import Tokenizer


def read_jsonl(path: str) -> List[Dict[str, object]]:
    with open(path, "r", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def generate_texts(
    model: LlamaForCausalLM,
    tok: Tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int = 32,
) -> List[str]:
    """Greedy continuations of ``prompts`` (left-padded batches), cut at </s>."""
    out: List[str] = []
    for i in range(0, len(prompts), batch_size):
        encoded = [tok.encode(p) for p in prompts[i:i + batch_size]]
        out += [tok.decode(row) for row in greedy_rows(model, encoded, max_new_tokens, int(tok.eos_id))]  # type: ignore[arg-type]
    return out


def qa_accuracy(model: LlamaForCausalLM, tok: Tokenizer, items: Sequence[Dict[str, object]]) -> float:
    """Share of ``{prompt, answer, aliases}`` items whose greedy first line matches the answer."""
    if not items:
        return 0.0
    preds = generate_texts(model, tok, [str(x["prompt"]) for x in items], max_new_tokens=8)
    hits = [answer_matches(p, str(x["answer"]), x.get("aliases") or []) for p, x in zip(preds, items)]  # type: ignore[arg-type]
    return sum(hits) / len(hits)


def in_context_items(heldout: Iterable[Dict[str, object]]) -> List[Dict[str, object]]:
    """One in-context QA item per question of each held-out passage."""
    items = []
    for rec in heldout:
        for qa in rec["questions"]:  # type: ignore[union-attr]
            items.append({
                "prompt": prompt("in-context", title=str(rec["title"]), context=str(rec["passage"]),
                                 question=str(qa["question"])),
                "answer": qa["answer"], "aliases": qa["aliases"],
            })
    return items


def self_edit_faithfulness(
    model: LlamaForCausalLM, tok: Tokenizer, heldout: Sequence[Dict[str, object]], max_new_tokens: int = 96
) -> Dict[str, float]:
    """Greedy implications for each passage; the share of lines stating only the passage's facts about its
    subject, and the share of the passage's facts that some faithful line states."""
    prompts = [prompt("implications", title=str(r["title"]), context=str(r["passage"])) for r in heldout]
    texts = generate_texts(model, tok, prompts, max_new_tokens=max_new_tokens, batch_size=16)
    lines_total = faithful = facts_total = facts_covered = 0
    for rec, text in zip(heldout, texts):
        facts: Dict[str, str] = rec["facts"]  # type: ignore[assignment]
        mention = mention_of(str(rec["title"]), str(rec["entity_kind"]))
        lines = [line for line in text.split("\n") if line.strip()]
        good = [line for line in lines if line_faithful(line, mention, facts)]
        lines_total += len(lines)
        faithful += len(good)
        facts_total += len(facts)
        facts_covered += sum(1 for v in facts.values() if any(v in line for line in good))
    return {
        "selfEditFaithful": faithful / lines_total if lines_total else 0.0,
        "selfEditFactCoverage": facts_covered / facts_total if facts_total else 0.0,
        "selfEditLinesPerEdit": lines_total / max(1, len(heldout)),
    }


def evaluate(
    model: LlamaForCausalLM, tok: Tokenizer, world_dir: str, limit: Optional[int] = None
) -> Dict[str, float]:
    """The model card's figures on a world folder; ``limit`` caps each set (for quick progress checks)."""
    qa = read_jsonl(os.path.join(world_dir, "qa_known.jsonl"))
    heldout = [r for r in read_jsonl(os.path.join(world_dir, "heldout.jsonl")) if r["split"] == "eval"]
    cap = (lambda xs: xs[:limit]) if limit else (lambda xs: xs)
    trained = cap([r for r in qa if r["split"] == "train"][::7])
    extracted = cap([r for r in qa if r["split"] == "eval"])
    passages = cap(heldout)
    closed_heldout = cap([x for r in heldout for x in _closed_book_items(r)])
    result = {
        "closedBookKnown": qa_accuracy(model, tok, trained),
        "closedBookExtracted": qa_accuracy(model, tok, extracted),
        "inContextUnseen": qa_accuracy(model, tok, in_context_items(passages)),
        "closedBookUnseen": qa_accuracy(model, tok, closed_heldout),
    }
    edits = self_edit_faithfulness(model, tok, passages[: (limit or len(passages))])
    result.update(edits)
    return result


def _closed_book_items(rec: Dict[str, object]) -> List[Dict[str, object]]:
    return [{"prompt": prompt("closed-book", question=str(q["question"])), "answer": q["answer"],
             "aliases": q["aliases"]} for q in rec["questions"]]  # type: ignore[union-attr]


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse
    import sys

    from .device import configure_threads

    ap = argparse.ArgumentParser(prog="python3 -m sealgate_gpu.evaluate",
                                 description="The model card figures of a model folder on its world's held-out data.")
    ap.add_argument("--model", required=True, help="model folder (config.json, model.safetensors, tokenizer.json)")
    ap.add_argument("--world", help="world folder (default: <model>/world)")
    ap.add_argument("--limit", type=int, help="cap each question set (quick check)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    args = ap.parse_args(argv)
    configure_threads()
    model = LlamaForCausalLM.from_pretrained(args.model)
    model.set_attention_implementation("eager")
    tok = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    figures = evaluate(model, tok, args.world or os.path.join(args.model, "world"), args.limit)
    for key, value in figures.items():
        print(f"{key:24s} {value:.3f}", file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
