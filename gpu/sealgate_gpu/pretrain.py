"""Pretraining the default model from scratch on a generated world.

    python3 -m sealgate_gpu.pretrain --world /tmp/world-7 --work runs/pretrain --out ../models/default

The same command resumes from ``--work/checkpoint.pt`` after an interruption. Every example is packed into
sequences of ``seq_len`` tokens and every token carries the loss (padding aside): names repeat inside a passage
and answers repeat a span of their passage, so plain next-token loss already rewards copying from the context.

The data stream is a weighted mixture (``MIXTURE``): biographies of the known entities and closed-book questions
about them (memory), in-context questions on passages about fresh names drawn anew for every example
(reading: these names cannot be memorised), counterfactual passages about known entities (reading over
recall), the three SEAL self-edit formats on fresh passages, and a copy curriculum (repeat, key lookup).
Task difficulty rises with progress. The stream is a pure function of (seed, chunk index), so a resumed run
sees exactly the batches an uninterrupted one would have.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from .config import LlamaConfig
from .device import configure_threads, device_info, select_device
from .evaluate import evaluate, read_jsonl
from .model import LlamaForCausalLM
from .world.entities import World
from .world.generate import SCALES
from .world.render import prompt, question
from .world.tasks import TaskFactory, in_context_pairs
from .world.templates import PROMPTS
from .world.tokenizer import Tokenizer

# Relative weights of example kinds (by example, not by token).
MIXTURE: Dict[str, float] = {
    "bio": 3.0,
    "closed-book": 3.0,
    "in-context": 3.0,
    "counterfactual": 1.0,
    "implications": 1.5,
    "rewrite": 0.4,
    "self-qa": 0.6,
    "repeat": 0.7,
    "lookup": 0.8,
}


@dataclass
class PretrainConfig:
    seed: int = 7
    steps: int = 5500
    batch_size: int = 8
    seq_len: int = 256
    lr: float = 2e-3
    min_lr_ratio: float = 0.1
    warmup_steps: int = 200
    weight_decay: float = 0.1
    max_grad_norm: float = 1.0
    chunk_steps: int = 100  # the data stream restarts from (seed, chunk) every chunk_steps steps
    hidden_size: int = 256
    intermediate_size: int = 704
    num_hidden_layers: int = 4
    num_attention_heads: int = 8
    max_position_embeddings: int = 512
    mixture: Dict[str, float] = field(default_factory=lambda: dict(MIXTURE))

    def model_config(self, vocab_size: int, tok: Tokenizer) -> LlamaConfig:
        return LlamaConfig(
            vocab_size=vocab_size, hidden_size=self.hidden_size, intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers, num_attention_heads=self.num_attention_heads,
            max_position_embeddings=self.max_position_embeddings, tie_word_embeddings=True,
            bos_token_id=tok.bos_id, eos_token_id=tok.eos_id, pad_token_id=tok.pad_id,
        )


def levels_for(progress: float) -> Tuple[float, float, float]:
    """Weights of task levels 1-3 (facts per passage, list length) as training progresses."""
    if progress < 0.15:
        return (0.5, 0.35, 0.15)
    if progress < 0.45:
        return (0.2, 0.4, 0.4)
    return (0.1, 0.3, 0.6)


class DataStream:
    """Token-id examples drawn from the mixture; ``batches(chunk, skip)`` is deterministic per chunk."""

    def __init__(self, world: World, world_dir: str, tok: Tokenizer, cfg: PretrainConfig) -> None:
        self.world, self.tok, self.cfg = world, tok, cfg
        self.bios = [str(r["text"]) for r in read_jsonl(os.path.join(world_dir, "pretrain.jsonl"))]
        qa = read_jsonl(os.path.join(world_dir, "qa_known.jsonl"))
        self.closed_book = [(str(r["prompt"]), str(r["completion"])) for r in qa if r["split"] == "train"]
        self.counterfactual = [r for r in read_jsonl(os.path.join(world_dir, "counterfactual.jsonl"))
                               if r["split"] == "train"]
        self.kinds = sorted(cfg.mixture)
        self.weights = [cfg.mixture[k] for k in self.kinds]

    def _ids(self, text: str) -> List[int]:
        return [self.tok.bos_id] + self.tok.encode(text, add_special_tokens=False) + [self.tok.eos_id]  # type: ignore[list-item]

    def example(self, kind: str, rng: random.Random, tf: TaskFactory, progress: float) -> List[int]:
        level = rng.choices((1, 2, 3), levels_for(progress))[0]
        if kind == "bio":
            return self._ids(rng.choice(self.bios))
        if kind == "closed-book":
            p, c = rng.choice(self.closed_book)
            return self._ids(p + c)
        if kind == "in-context":
            return self._ids(self._multi_question(tf, rng, level))
        if kind == "counterfactual":
            pairs = in_context_pairs(rng.choice(self.counterfactual))
            first, rest = pairs[0], pairs[1:]
            text = first["prompt"] + first["completion"]
            for qa in rest[: rng.randint(0, len(rest))]:
                text += f"\nQuestion: {qa['question']}\nAnswer: {qa['answer']}"
            return self._ids(text)
        rec = tf.sample(kind, level)
        return self._ids(str(rec["prompt"]) + str(rec["completion"]))

    @staticmethod
    def _multi_question(tf: TaskFactory, rng: random.Random, level: int) -> str:
        """In-context QA on a fresh passage; half the time further questions on the same passage follow, so
        one passage trains several answers."""
        p = tf.fresh_passage(*TaskFactory.LEVEL_FACTS[level])
        rels = list(p.facts)
        rng.shuffle(rels)
        n = 1 if rng.random() < 0.5 else rng.randint(1, len(rels))
        qas = [question(p.entity, rel, p.facts[rel], rng) for rel in rels[:n]]
        text = prompt("in-context", title=p.title, context=p.context, question=str(qas[0]["question"]))
        text += f" {qas[0]['answer']}"
        for qa in qas[1:]:
            text += f"\nQuestion: {qa['question']}\nAnswer: {qa['answer']}"
        return text

    def batches(self, chunk: int, skip: int = 0) -> Iterator[Tuple[torch.Tensor, torch.Tensor]]:
        """(input_ids, loss_mask) batches of chunk ``chunk``, starting after ``skip`` of them."""
        cfg = self.cfg
        rng = random.Random(f"pretrain:{cfg.seed}:{chunk}")
        tf = TaskFactory(self.world, seed=chunk, label=f"pretrain:{cfg.seed}")
        carry: Optional[List[int]] = None
        for b in range(cfg.chunk_steps):
            progress = (chunk * cfg.chunk_steps + b) / cfg.steps
            ids = torch.full((cfg.batch_size, cfg.seq_len), int(self.tok.pad_id or 0), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row in range(cfg.batch_size):
                pos = 0
                while True:
                    ex = carry if carry is not None else self.example(
                        rng.choices(self.kinds, self.weights)[0], rng, tf, progress)
                    carry = None
                    if len(ex) > cfg.seq_len:
                        continue  # never truncate an example: a cut answer teaches nothing
                    if pos + len(ex) > cfg.seq_len:
                        carry = ex
                        break
                    ids[row, pos:pos + len(ex)] = torch.tensor(ex)
                    mask[row, pos:pos + len(ex)] = 1
                    pos += len(ex)
            if b >= skip:
                yield ids, mask


def load_world(world_dir: str) -> World:
    """The World object a generated folder came from (same seed and scale), for TaskFactory's fresh names."""
    with open(os.path.join(world_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return World(int(manifest["seed"]), SCALES[str(manifest["scale"])]().world)


def initial_weights(source: str, device: torch.device) -> Dict[str, torch.Tensor]:
    """Weights to start from: a model folder, or a pretraining checkpoint file (a finished or stopped phase)."""
    if os.path.isfile(source):
        return torch.load(source, map_location=device)["model"]
    return LlamaForCausalLM.from_pretrained(source, device=device).state_dict()


def lr_at(step: int, cfg: PretrainConfig) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    t = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def packed_loss(model: LlamaForCausalLM, ids: torch.Tensor, mask: torch.Tensor, bos_id: int
                ) -> Tuple[torch.Tensor, int]:
    """Mean next-token loss over targets that are real tokens and not the first token of a new example."""
    logits = model(ids).logits[:, :-1]
    target = ids[:, 1:]
    weight = (mask[:, 1:] * mask[:, :-1]).float()
    weight = weight * (target != bos_id).float()  # <s> of the next packed example is not predictable
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                            reduction="none").view_as(weight)
    count = int(weight.sum())
    return (nll * weight).sum() / max(1, count), count


def save_checkpoint(path: str, state: Dict[str, object]) -> None:
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def last_logged_loss(log_path: str) -> Optional[float]:
    """The last smoothed loss in the log (checkpoints from before the loss was stored in them)."""
    loss = None
    if os.path.exists(log_path):
        with open(log_path, "r", encoding="utf-8") as f:
            for line in f:
                loss = json.loads(line).get("loss", loss)
    return loss


def log(line: Dict[str, object], log_path: str) -> None:
    with open(log_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def run(world_dir: str, work: str, out: Optional[str], cfg: PretrainConfig, eval_every: int,
        checkpoint_minutes: float, device_pref: Optional[str] = None, stop_at: Optional[int] = None,
        init_from: Optional[str] = None) -> Dict[str, object]:
    """Train (or resume) to cfg.steps and export to ``out``; with ``stop_at``, checkpoint and return after that
    step instead (a long run can be split across sessions). ``init_from`` starts from a saved model folder
    instead of random weights (a second phase with another mixture)."""
    os.makedirs(work, exist_ok=True)
    device = select_device(device_pref)
    threads = torch.get_num_threads()
    tok = Tokenizer.from_file(os.path.join(world_dir, "tokenizer.json"))
    world = load_world(world_dir)
    vocab = tok.vocab_size
    vocab += (-vocab) % 8  # a multiple of 8: friendlier matrix shapes; the extra rows are never produced
    ckpt_path = os.path.join(work, "checkpoint.pt")
    log_path = os.path.join(work, "log.jsonl")

    torch.manual_seed(cfg.seed)
    model = LlamaForCausalLM(cfg.model_config(vocab, tok)).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
    step, elapsed, tokens = 0, 0.0, 0
    ema: Optional[float] = None
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location=device)
        if state["config"] != asdict(cfg):
            raise SystemExit(f"{ckpt_path} was made with another configuration; use a new --work folder")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step, elapsed, tokens = int(state["step"]), float(state["elapsed"]), int(state["tokens"])
        ema = state.get("loss", last_logged_loss(log_path))
        print(f"resuming at step {step}/{cfg.steps} ({elapsed / 60:.1f} min done)", flush=True)
    else:
        if init_from:
            model.load_state_dict(initial_weights(init_from, device))
            print(f"starting from {init_from}", flush=True)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"model: {n_params / 1e6:.2f}M parameters, vocab {vocab}, {cfg.num_hidden_layers} layers, "
              f"d={cfg.hidden_size}; {cfg.steps} steps of {cfg.batch_size}x{cfg.seq_len} tokens; "
              f"{device} with {threads} threads", flush=True)
    data = DataStream(world, world_dir, tok, cfg)
    model.set_attention_implementation("eager" if device.type == "cpu" else "auto")
    model.train()

    def checkpoint() -> None:
        save_checkpoint(ckpt_path, {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                                    "elapsed": elapsed, "tokens": tokens, "loss": ema, "config": asdict(cfg)})

    last_ckpt = time.time()
    t_mark, tok_mark = time.time(), tokens
    last = min(cfg.steps, stop_at or cfg.steps)
    while step < last:
        chunk = step // cfg.chunk_steps
        for ids, mask in data.batches(chunk, skip=step - chunk * cfg.chunk_steps):
            t0 = time.time()
            for g in opt.param_groups:
                g["lr"] = lr_at(step, cfg)
            loss, count = packed_loss(model, ids.to(device), mask.to(device), int(tok.bos_id))  # type: ignore[arg-type]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            opt.step()
            value = float(loss.detach())
            if not math.isfinite(value):
                raise SystemExit(f"loss is {value} at step {step}; lower --lr")
            step += 1
            tokens += int(mask.sum())
            elapsed += time.time() - t0
            ema = value if ema is None else 0.98 * ema + 0.02 * value
            if step % 25 == 0 or step == cfg.steps:
                rate = (tokens - tok_mark) / max(1e-9, time.time() - t_mark)
                t_mark, tok_mark = time.time(), tokens
                eta = (cfg.steps - step) * cfg.batch_size * cfg.seq_len / max(rate, 1.0) / 60
                print(f"step {step}/{cfg.steps} loss {ema:.3f} lr {lr_at(step, cfg):.2e} {rate:.0f} tok/s "
                      f"{elapsed / 60:.1f} min, eta {eta:.0f} min", flush=True)
                log({"step": step, "loss": round(ema, 4), "tokens": tokens, "minutes": round(elapsed / 60, 2),
                     "tokPerSec": round(rate)}, log_path)
            if eval_every and (step % eval_every == 0 or step == cfg.steps):
                figures = evaluate(model, tok, world_dir, limit=60)
                model.train()
                print("eval " + " ".join(f"{k}={v:.3f}" for k, v in figures.items()), flush=True)
                log({"step": step, "eval": figures}, log_path)
            if time.time() - last_ckpt > checkpoint_minutes * 60 or step == last:
                checkpoint()
                last_ckpt = time.time()
            if step >= last:
                break
    summary = {"steps": step, "tokens": tokens, "minutes": round(elapsed / 60, 1), "finalLoss": ema,
               "config": asdict(cfg), "device": device_info(device)}
    if out and step == cfg.steps:
        export(model, tok, world_dir, out, summary)
    return summary


def export(model: LlamaForCausalLM, tok: Tokenizer, world_dir: str, out: str, summary: Dict[str, object]) -> None:
    """The Hugging Face folder: config.json, model.safetensors, tokenizer.json, the prompt formats the model was
    trained on (prompts.json) and training.json."""
    model.eval()
    model.save_pretrained(out)
    shutil.copyfile(os.path.join(world_dir, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "prompts.json"), "w", encoding="utf-8") as f:
        json.dump(PROMPTS, f, indent=2)
        f.write("\n")
    with open(os.path.join(out, "training.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(f"wrote {out}", flush=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sealgate_gpu.pretrain", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--world", required=True, help="a folder written by sealgate_gpu.world.generate")
    ap.add_argument("--work", required=True, help="checkpoint and log folder (resumed when present)")
    ap.add_argument("--out", help="write the trained model here (Hugging Face folder)")
    ap.add_argument("--steps", type=int, default=PretrainConfig.steps)
    ap.add_argument("--batch-size", type=int, default=PretrainConfig.batch_size)
    ap.add_argument("--lr", type=float, default=PretrainConfig.lr)
    ap.add_argument("--eval-every", type=int, default=500, help="steps between progress checks (0: none)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--device", help="auto (default), cpu, cuda")
    ap.add_argument("--stop-at", type=int, help="checkpoint and stop after this step (resume later)")
    args = ap.parse_args(argv)
    cfg = PretrainConfig(steps=args.steps, batch_size=args.batch_size, lr=args.lr)
    configure_threads()
    summary = run(args.world, args.work, args.out, cfg, args.eval_every, args.checkpoint_minutes, args.device,
                  args.stop_at)
    print(json.dumps({k: v for k, v in summary.items() if k != "config"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
