"""K independent LoRA adapters, trained and evaluated side by side in one batched pass.

SEAL's costly step is the trial: train a LoRA on one self-edit, then measure the result. On a small model one
trial is a few thousand tiny matrix products whose cost is mostly per-operation overhead. K trials side by side
share every product of the base model and turn the adapters' products into batched ones (torch.bmm), so the
machine runs K trials in a fraction of K times the time of one.

Rows of a batch belong to groups: with K groups and n rows, rows [k*n/K, (k+1)*n/K) see adapter k. Each group
may also carry its own frozen adapters (a continual run's earlier edits) under its trainable one.

Training reproduces `train_lora` adapter for adapter: the same initialisation and shuffling from the same seed,
the same mini-batches, gradient clipping per adapter and AdamW steps per adapter. An adapter whose schedule has
ended is not stepped while the others go on (tests/test_seal.py checks the equality).
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..lora import LORA_DTYPE, AdapterStack, LoraAdapter, LoraConfig, LoraLinear
from ..model import LlamaForCausalLM, greedy_rows
from ..training import TokenSequence, TrainParams, pad_token_id

ADAM_BETAS = (0.9, 0.999)  # torch.optim.AdamW's defaults, which train_lora uses
ADAM_EPS = 1e-8


@dataclass
class GroupTrainResult:
    adapter: LoraAdapter
    loss_curve: List[float] = field(default_factory=list)
    steps: int = 0
    diverged: bool = False


class _LayerGroup:
    """One adapted layer's K trainable adapters (and, optionally, K frozen stacks), as batched tensors."""

    def __init__(self, layer: LoraLinear, k: int, rank: int, scaling: float) -> None:
        self.layer = layer
        self.k = k
        self.scaling = scaling
        dev = layer.weight.device
        self.a = torch.zeros(k, rank, layer.in_features, dtype=LORA_DTYPE, device=dev)
        self.b = torch.zeros(k, layer.out_features, rank, dtype=LORA_DTYPE, device=dev)
        self.frozen_a: Optional[torch.Tensor] = None  # [K, R, in]
        self.frozen_b: Optional[torch.Tensor] = None  # [K, out, R], scaling folded in
        self.m_a = torch.zeros_like(self.a)
        self.v_a = torch.zeros_like(self.a)
        self.m_b = torch.zeros_like(self.b)
        self.v_b = torch.zeros_like(self.b)

    def delta(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        xg = x.reshape(self.k, (n // self.k) * t, d).to(LORA_DTYPE)
        out = torch.bmm(torch.bmm(xg, self.a.transpose(1, 2)), self.b.transpose(1, 2)) * self.scaling
        if self.frozen_a is not None and self.frozen_b is not None:
            out = out + torch.bmm(torch.bmm(xg, self.frozen_a.transpose(1, 2)), self.frozen_b.transpose(1, 2))
        return out.reshape(n, t, -1)


class GroupedAdapters:
    """K fresh adapters (PEFT initialisation, one seed each) attached to every targeted layer of a model.

    Use as a context manager; on exit the model is as it was. `frozen[k]` lists adapters that sit under
    adapter k only (rank-concatenated like AdapterStack, so a group sees exactly its own stack).
    """

    def __init__(
        self,
        stack: AdapterStack,
        config: LoraConfig,
        seeds: Sequence[int],
        frozen: Optional[Sequence[Sequence[LoraAdapter]]] = None,
    ) -> None:
        if not seeds:
            raise ValueError("at least one group is needed")
        if frozen is not None and len(frozen) != len(seeds):
            raise ValueError("frozen needs one list of adapters per group")
        self.stack = stack
        self.config = config
        self.k = len(seeds)
        self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.groups: Dict[str, _LayerGroup] = {}
        for path, layer in stack.layers.items():
            module = path.rsplit(".", 1)[-1]
            if module not in config.target_modules:
                continue
            rank = config.rank_pattern.get(module, config.r)
            self.groups[path] = _LayerGroup(layer, self.k, rank, config.scaling(path, rank))
        if not self.groups:
            raise ValueError("target_modules matched no layer")
        # The same draws, in the same order, as AdapterStack.add_trainable with each group's generator.
        bound_of = {p: 1.0 / math.sqrt(g.layer.in_features) for p, g in self.groups.items()}
        for k, gen in enumerate(self.generators):
            for path, g in self.groups.items():
                a = torch.empty(g.a.shape[1], g.layer.in_features, dtype=LORA_DTYPE)
                a.uniform_(-bound_of[path], bound_of[path], generator=gen)
                g.a[k] = a.to(g.a.device)
        if frozen is not None:
            self._set_frozen(frozen)

    def _set_frozen(self, frozen: Sequence[Sequence[LoraAdapter]]) -> None:
        for path, g in self.groups.items():
            parts: List[Tuple[torch.Tensor, torch.Tensor]] = []
            for adapters in frozen:
                a_parts = [ad.weights[path][0].to(LORA_DTYPE) for ad in adapters if path in ad.weights]
                b_parts = [
                    ad.weights[path][1].to(LORA_DTYPE) * ad.config.scaling(path, int(ad.weights[path][0].shape[0]))
                    for ad in adapters if path in ad.weights
                ]
                a = torch.cat(a_parts, 0) if a_parts else torch.zeros(0, g.layer.in_features)
                b = torch.cat(b_parts, 1) if b_parts else torch.zeros(g.layer.out_features, 0)
                parts.append((a, b))
            width = max(a.shape[0] for a, _ in parts)
            if width == 0:
                continue
            fa = torch.zeros(self.k, width, g.layer.in_features, dtype=LORA_DTYPE)
            fb = torch.zeros(self.k, g.layer.out_features, width, dtype=LORA_DTYPE)
            for k, (a, b) in enumerate(parts):  # zero rows/columns pad a shorter stack: they add nothing
                fa[k, : a.shape[0]] = a
                fb[k, :, : b.shape[1]] = b
            dev = g.layer.weight.device
            g.frozen_a, g.frozen_b = fa.to(dev), fb.to(dev)

    def __enter__(self) -> "GroupedAdapters":
        for g in self.groups.values():
            if g.layer.group_delta is not None:
                raise RuntimeError("grouped adapters are already attached to this model")
            g.layer.group_delta = g.delta
        return self

    def __exit__(self, *exc: object) -> None:
        for g in self.groups.values():
            g.layer.group_delta = None

    def adapter(self, k: int) -> LoraAdapter:
        weights = {p: (g.a[k].detach().cpu().clone(), g.b[k].detach().cpu().clone()) for p, g in self.groups.items()}
        return LoraAdapter(dataclasses.replace(self.config, inference_mode=True), weights)

    # ----- training ---------------------------------------------------------------------------------------
    def train(
        self,
        model: LlamaForCausalLM,
        sequences: Sequence[Sequence[TokenSequence]],
        params: TrainParams,
        on_step: Optional[Callable[[int, int], None]] = None,
    ) -> List[GroupTrainResult]:
        """Train adapter k on sequences[k] with `params` (its seed is the group's own)."""
        if len(sequences) != self.k:
            raise ValueError(f"{self.k} groups but {len(sequences)} sequence lists")
        device = model.model.embed_tokens.weight.device
        pad = pad_token_id(model)
        schedules = [self._schedule(list(seqs), params, gen) for seqs, gen in zip(sequences, self.generators)]
        total = max(len(s) for s in schedules)
        steps = torch.zeros(self.k, dtype=torch.long)
        curves: List[List[float]] = [[] for _ in range(self.k)]
        diverged = [False] * self.k
        params_list = [t for g in self.groups.values() for t in (g.a, g.b)]
        for t in params_list:
            t.requires_grad_(True)
        for p in model.parameters():
            p.requires_grad_(False)
        model.train()
        try:
            for step in range(total):
                chunks = [s[step] if step < len(s) else [] for s in schedules]
                active = torch.tensor([bool(c) and not d for c, d in zip(chunks, diverged)])
                ids, attn, mask = _grouped_batch(chunks, pad, device)
                logits = model(ids, attention_mask=attn).logits
                loss_per_group, counts = _grouped_loss(logits, ids, mask * attn, self.k)
                per_group = loss_per_group / counts.clamp(min=1.0)
                for t in params_list:
                    t.grad = None
                per_group.sum().backward()
                values = per_group.detach().cpu()
                for k in range(self.k):
                    if active[k]:
                        if not math.isfinite(float(values[k])):
                            diverged[k] = True
                            active[k] = False
                        else:
                            curves[k].append(float(values[k]))
                steps += active.long()
                self._adamw_step(params, active, steps)
                if on_step is not None:
                    on_step(step + 1, total)
        finally:
            model.eval()
            for t in params_list:
                t.grad = None
                t.requires_grad_(False)
        return [
            GroupTrainResult(self.adapter(k), curves[k], int(steps[k]), diverged[k]) for k in range(self.k)
        ]

    @staticmethod
    def _schedule(
        seqs: List[TokenSequence], params: TrainParams, gen: torch.Generator
    ) -> List[List[TokenSequence]]:
        """The mini-batches train_lora would draw from this generator, all epochs in order."""
        n = len(seqs)
        per_epoch = math.ceil(n / params.batch_size)
        out: List[List[TokenSequence]] = []
        for _ in range(params.epochs):
            order = torch.randperm(n, generator=gen).tolist() if params.shuffle else list(range(n))
            for b in range(per_epoch):
                out.append([seqs[i] for i in order[b * params.batch_size:(b + 1) * params.batch_size]])
        return out

    @torch.no_grad()
    def _adamw_step(self, params: TrainParams, active: torch.Tensor, steps: torch.Tensor) -> None:
        """torch.optim.AdamW's update, per group, for the groups that had a mini-batch this step."""
        if not bool(active.any()):
            return
        beta1, beta2 = ADAM_BETAS
        tensors = [(g.a, g.m_a, g.v_a) for g in self.groups.values()] + [
            (g.b, g.m_b, g.v_b) for g in self.groups.values()
        ]
        if params.max_grad_norm:
            sq = torch.zeros(self.k, dtype=torch.float64)
            for p, _, _ in tensors:
                sq += p.grad.double().pow(2).sum(dim=(1, 2)).cpu()
            coef = (params.max_grad_norm / (sq.sqrt() + 1e-6)).clamp(max=1.0).float()
        else:
            coef = torch.ones(self.k)
        lr = torch.full((self.k,), float(params.lr))
        if params.warmup_steps > 0:
            lr = lr * torch.clamp(steps.float() / params.warmup_steps, max=1.0)
        step_f = steps.clamp(min=1).double()
        bc1 = (1 - beta1 ** step_f).float()
        bc2_sqrt = (1 - beta2 ** step_f).sqrt().float()
        on = active.float()
        for p, m, v in tensors:
            dev = p.device
            shape = (self.k, 1, 1)
            g = p.grad * coef.to(dev).view(shape)
            a = on.to(dev).view(shape)
            m.copy_(torch.where(a > 0, m * beta1 + g * (1 - beta1), m))
            v.copy_(torch.where(a > 0, v * beta2 + g * g * (1 - beta2), v))
            if params.weight_decay:
                p.mul_(1 - (lr.to(dev) * params.weight_decay * on.to(dev)).view(shape))
            denom = v.sqrt() / bc2_sqrt.to(dev).view(shape) + ADAM_EPS
            p.sub_((lr.to(dev) / bc1.to(dev) * on.to(dev)).view(shape) * m / denom)

    # ----- evaluation -------------------------------------------------------------------------------------
    @torch.no_grad()
    def generate(
        self, model: LlamaForCausalLM, prompts: Sequence[Sequence[List[int]]], max_new_tokens: int, eos_id: int
    ) -> List[List[List[int]]]:
        """Greedy continuations: prompts[k] (token ids) are answered by adapter k; cut at eos."""
        if len(prompts) != self.k:
            raise ValueError(f"{self.k} groups but {len(prompts)} prompt lists")
        m = max(1, max(len(p) for p in prompts))
        rows: List[List[int]] = []
        for group in prompts:  # a group short of prompts repeats one; its answers are dropped
            rows += list(group) + [group[0] if group else [pad_token_id(model)]] * (m - len(group))
        new = greedy_rows(model, rows, max_new_tokens, eos_id)
        out: List[List[List[int]]] = []
        for k, group in enumerate(prompts):
            out.append(new[k * m:k * m + len(group)])
        return out

    @torch.no_grad()
    def sequence_nll(self, model: LlamaForCausalLM, sequences: Sequence[Sequence[TokenSequence]]) -> List[float]:
        """Per adapter k, the mean next-token loss over the masked tokens of sequences[k] (teacher-forced)."""
        if len(sequences) != self.k:
            raise ValueError(f"{self.k} groups but {len(sequences)} sequence lists")
        ids, attn, mask = _grouped_batch(sequences, pad_token_id(model), model.model.embed_tokens.weight.device)
        total, count = _grouped_loss(model(ids, attention_mask=attn).logits, ids, mask * attn, self.k)
        return (total / count.clamp(min=1.0)).cpu().tolist()


def _grouped_batch(
    chunks: Sequence[Sequence[TokenSequence]], pad: int, device: torch.device
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded rows, the same number per group; a group short of rows gets one-token rows with no loss."""
    m = max(1, max(len(c) for c in chunks))
    rows: List[Optional[TokenSequence]] = []
    for c in chunks:
        rows += list(c) + [None] * (m - len(c))
    width = max([len(r.input_ids) for r in rows if r is not None] or [1])
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    attn = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        if r is None:
            attn[i, 0] = 1  # one visible token keeps attention finite; it carries no loss
            continue
        n = len(r.input_ids)
        ids[i, :n] = torch.tensor(r.input_ids, dtype=torch.long)
        attn[i, :n] = 1
        mask[i, :n] = torch.tensor(r.loss_mask, dtype=torch.long)
    mask[:, 0] = 0
    return ids.to(device), attn.to(device), mask.to(device)


def _grouped_loss(
    logits: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor, k: int
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Per group: the sum of next-token cross-entropy over its masked targets, and their count."""
    pred = logits[:, :-1].float()
    weight = mask[:, 1:].to(pred.dtype)
    nll = torch.nn.functional.cross_entropy(
        pred.reshape(-1, pred.shape[-1]), ids[:, 1:].reshape(-1), reduction="none"
    ).view_as(weight)
    return (nll * weight).reshape(k, -1).sum(1), weight.reshape(k, -1).sum(1)


