"""LoRA training on token sequences with explicit per-token loss masks, on top of a frozen adapter stack."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import torch

from .lora import AdapterStack, LoraAdapter, LoraConfig
from .model import LlamaForCausalLM, pad_token_id


@dataclass
class TokenSequence:
    """input_ids, and loss_mask[t] = 1 when token t is a target (predicted from tokens before it).

    loss_mask[0] is ignored: the first token has nothing before it.
    """

    input_ids: List[int]
    loss_mask: List[int]


@dataclass
class TrainParams:
    lora: LoraConfig
    lr: float = 1e-3
    epochs: int = 1
    batch_size: int = 8
    seed: int = 0
    weight_decay: float = 0.0
    max_grad_norm: Optional[float] = 1.0
    warmup_steps: int = 0
    shuffle: bool = True


@dataclass
class TrainResult:
    adapter: LoraAdapter
    loss_curve: List[float] = field(default_factory=list)
    steps: int = 0
    tokens: int = 0
    loss_tokens: int = 0
    seconds: float = 0.0


class Cancelled(Exception):
    """Training was asked to stop."""


class Diverged(Exception):
    """The loss became NaN or infinite."""


Batch = Tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def causal_lm_loss(
    logits: torch.Tensor, input_ids: torch.Tensor, loss_mask: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Sum of next-token cross-entropy over masked targets, and their count.

    logits [B, T, V] predict input_ids[:, 1:]; loss_mask [B, T] selects the target tokens.
    """
    pred = logits[:, :-1].float()
    target = input_ids[:, 1:]
    weight = loss_mask[:, 1:].to(pred.dtype)
    nll = torch.nn.functional.cross_entropy(
        pred.reshape(-1, pred.shape[-1]), target.reshape(-1), reduction="none"
    ).view_as(weight)
    return (nll * weight).sum(), weight.sum()


def collate(
    seqs: Sequence[TokenSequence], pad_id: int, device: torch.device
) -> Batch:
    """Right-padded input_ids, attention_mask and loss_mask; padding has attention 0 and loss 0."""
    width = max(len(s.input_ids) for s in seqs)
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    attn = torch.zeros((len(seqs), width), dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        n = len(s.input_ids)
        ids[i, :n] = torch.tensor(s.input_ids, dtype=torch.long)
        attn[i, :n] = 1
        mask[i, :n] = torch.tensor(s.loss_mask, dtype=torch.long)
    mask[:, 0] = 0
    return ids.to(device), attn.to(device), mask.to(device)


def batch_loss(model: LlamaForCausalLM, batch: Batch) -> Tuple[torch.Tensor, torch.Tensor]:
    ids, attn, mask = batch
    logits = model(ids, attention_mask=attn).logits
    return causal_lm_loss(logits, ids, mask * attn)


def train_lora(
    model: LlamaForCausalLM,
    stack: AdapterStack,
    sequences: Sequence[TokenSequence],
    params: TrainParams,
    on_step: Optional[Callable[[int, int, float], None]] = None,
    should_stop: Optional[Callable[[], bool]] = None,
) -> TrainResult:
    """Train one fresh LoRA on top of the stack already set on `model`; returns it (detached from the model)."""
    device = model.model.embed_tokens.weight.device
    gen = torch.Generator().manual_seed(params.seed)
    torch.manual_seed(params.seed)  # dropout draws from the global generator
    stack.freeze_base()
    lora_params = stack.add_trainable(params.lora, generator=gen)
    try:
        opt = torch.optim.AdamW(lora_params, lr=params.lr, weight_decay=params.weight_decay)
        n = len(sequences)
        per_epoch = math.ceil(n / params.batch_size)
        total = per_epoch * params.epochs
        pad = pad_token_id(model)
        result_curve: List[float] = []
        tokens = loss_tokens = step = 0
        t0 = time.perf_counter()
        model.train()
        for _ in range(params.epochs):
            order = torch.randperm(n, generator=gen).tolist() if params.shuffle else list(range(n))
            for b in range(per_epoch):
                if should_stop is not None and should_stop():
                    raise Cancelled()
                chunk = [sequences[i] for i in order[b * params.batch_size:(b + 1) * params.batch_size]]
                batch = collate(chunk, pad, device)
                if params.warmup_steps > 0:
                    for g in opt.param_groups:
                        g["lr"] = params.lr * min(1.0, (step + 1) / params.warmup_steps)
                loss_sum, count = batch_loss(model, batch)
                loss = loss_sum / count.clamp(min=1.0)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if params.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(lora_params, params.max_grad_norm)
                opt.step()
                step += 1
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise Diverged(f"loss is {value} at step {step}; lower the learning rate")
                result_curve.append(value)
                tokens += int(batch[1].sum())
                loss_tokens += int(count)
                if on_step is not None:
                    on_step(step, total, value)
        seconds = time.perf_counter() - t0
        adapter = stack.trainable_adapter()
        return TrainResult(adapter, result_curve, step, tokens, loss_tokens, seconds)
    finally:
        model.eval()
        stack.drop_trainable()


@torch.no_grad()
def sequence_losses(
    model: LlamaForCausalLM, sequences: Sequence[TokenSequence], batch_size: int = 16
) -> List[float]:
    """Mean masked loss per sequence under the model's current stack (for checks and tests)."""
    device = model.model.embed_tokens.weight.device
    pad = pad_token_id(model)
    out: List[float] = []
    for i in range(0, len(sequences), batch_size):
        ids, attn, mask = collate(sequences[i:i + batch_size], pad, device)
        logits = model(ids, attention_mask=attn).logits
        for j in range(ids.shape[0]):
            s, c = causal_lm_loss(logits[j:j + 1], ids[j:j + 1], (mask * attn)[j:j + 1])
            out.append(float(s / c.clamp(min=1.0)))
    return out
