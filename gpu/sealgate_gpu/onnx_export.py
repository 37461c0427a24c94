"""Exporting a model to ONNX for the gateway's onnxruntime-node serving: KV cache, and LoRA as inputs.

    python3 -m sealgate_gpu.onnx_export --model ../models/default [--out model.onnx] [--reference FILE]

Inputs (batch B, new tokens T, cache capacity C, LoRA rank R; names follow Hugging Face optimum):
  input_ids [B, T] int64, attention_mask [B, C+T] int64 (1 token, 0 padding or unused cache column),
  position_ids [B, T] int64, past_key_values.{i}.key / .value [B, kv_heads, C, head_dim] float32,
  lora.{i}.{module}.A [B, R, in] and lora.{i}.{module}.B [B, out, R] float32 for every layer i and module
  q_proj k_proj v_proj o_proj gate_proj up_proj down_proj.
Outputs: logits [B, T, vocab], new_key_values.{i}.key / .value [B, kv_heads, T, head_dim]: the keys and values
of the T new tokens only.

The past is the caller's fixed-capacity cache buffer, read and never copied by the graph: attention scores the
past and the new tokens separately and softmaxes them together, and the caller writes the new keys and values
into its buffer's next columns itself. (A graph that returns concat(past, new) writes the whole cache every
step: at 32 rows that concat took most of a decode step.) Columns the caller has not filled yet must hold
finite values (zeros, or what an earlier cache left in the buffer) and be masked; C must be at least 1
(onnxruntime's MatMul over an empty dimension leaves garbage), so a pass with no cache feeds one masked column
of zeros.

LoRA is per batch row: row b's linear layers compute W x + B_b A_b x, with the adapter scaling already folded
into B_b and a stack of adapters concatenated along R (see lora.py). Rows with fewer ranks than R are padded
with zeros, and a row with no adapter is all zeros, so requests for different adapters share one batch and the
result is exactly that of each row's own stack.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .lora import AdapterStack, LoraAdapter, LoraConfig, inject_lora_layers
from .model import LINEAR_MODULES, LlamaAttention, LlamaForCausalLM

OPSET = 14
ONNX_NAME = "model.onnx"


class BatchedLoraLinear(nn.Module):
    """A linear layer whose LoRA factors arrive per batch row (set just before each forward)."""

    def __init__(self, base: nn.Linear) -> None:
        super().__init__()
        self.weight = base.weight
        self.bias = base.bias
        self.a: Optional[torch.Tensor] = None  # [B, R, in]
        self.b: Optional[torch.Tensor] = None  # [B, out, R]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)
        assert self.a is not None and self.b is not None
        return y + torch.matmul(torch.matmul(x, self.a.transpose(1, 2)), self.b.transpose(1, 2))


class SplitAttention(nn.Module):
    """Export-only attention that reads the past cache and returns only the new tokens' keys and values.

    The same math as LlamaAttention's eager path (scores, additive bias, float32 softmax), with the key axis
    split in two: scores against the past [B, H, T, C] and against the new tokens [B, H, T, T] are softmaxed
    together, and the output is p_past V_past + p_new V_new. Grouped-query heads are handled by folding the
    query heads that share a key/value head into the query axis, so the past is never repeated (copied) either.
    """

    def __init__(self, attn: LlamaAttention) -> None:
        super().__init__()
        self.attn = attn

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        bias: torch.Tensor,
        past: Optional[Tuple[torch.Tensor, torch.Tensor]],
    ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        a = self.attn
        assert past is not None, "the exported graph always has a past (at least one masked column)"
        bsz, q_len, _ = x.shape
        q, k, v = a.project_qkv(x, cos, sin)
        rep = a.n_heads // a.n_kv
        # [B, H, T, D] -> [B, kv_heads, rep * T, D]: query heads of one key/value head side by side.
        qg = q.reshape(bsz, a.n_kv, rep * q_len, a.head_dim)
        scale = math.sqrt(a.head_dim)
        s_past = torch.matmul(qg, past[0].transpose(2, 3)) / scale
        s_new = torch.matmul(qg, k.transpose(2, 3)) / scale
        n_past = past[0].shape[2]
        scores = torch.cat((s_past, s_new), dim=-1).view(bsz, a.n_heads, q_len, n_past + q_len) + bias
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        probs = probs.view(bsz, a.n_kv, rep * q_len, n_past + q_len)
        out = torch.matmul(probs[..., :n_past], past[1]) + torch.matmul(probs[..., n_past:], v)
        out = out.view(bsz, a.n_heads, q_len, a.head_dim).transpose(1, 2).reshape(bsz, q_len, -1)
        return a.o_proj(out), (k, v)


class OnnxLlama(nn.Module):
    """The model with flat tensor inputs and outputs, as the ONNX graph has them (it modifies ``model``: LoRA
    inputs on its linear layers, and SplitAttention, so that the cache it returns holds the new tokens only)."""

    def __init__(self, model: LlamaForCausalLM) -> None:
        super().__init__()
        self.model = model
        self.n_layers = model.config.num_hidden_layers
        self.lora_layers: List[BatchedLoraLinear] = []
        for layer in model.model.layers:
            for parent, name in lora_targets(layer):
                wrapped = BatchedLoraLinear(getattr(parent, name))
                setattr(parent, name, wrapped)
                self.lora_layers.append(wrapped)
            layer.self_attn = SplitAttention(layer.self_attn)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor,
                *rest: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        n_past = 2 * self.n_layers
        past = [(rest[2 * i], rest[2 * i + 1]) for i in range(self.n_layers)]
        loras = rest[n_past:]
        for j, layer in enumerate(self.lora_layers):
            layer.a, layer.b = loras[2 * j], loras[2 * j + 1]
        out = self.model(input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         past_key_values=past, use_cache=True)
        flat: List[torch.Tensor] = [out.logits]
        for k, v in out.past_key_values or []:
            flat += [k, v]
        return tuple(flat)


def lora_targets(layer: nn.Module) -> List[Tuple[nn.Module, str]]:
    """(parent, attribute) of a decoder layer's seven linear modules, in LINEAR_MODULES order."""
    attn = layer.self_attn.attn if isinstance(layer.self_attn, SplitAttention) else layer.self_attn
    out = []
    for module in LINEAR_MODULES:
        parent = attn if module.endswith(("q_proj", "k_proj", "v_proj", "o_proj")) else layer.mlp
        out.append((parent, module))
    return out


def input_names(n_layers: int) -> Tuple[List[str], List[str], List[str]]:
    """(inputs, outputs, lora inputs) names of the graph."""
    past = [f"past_key_values.{i}.{kv}" for i in range(n_layers) for kv in ("key", "value")]
    lora = [f"lora.{i}.{m}.{ab}" for i in range(n_layers) for m in LINEAR_MODULES for ab in ("A", "B")]
    new = [f"new_key_values.{i}.{kv}" for i in range(n_layers) for kv in ("key", "value")]
    return ["input_ids", "attention_mask", "position_ids"] + past + lora, ["logits"] + new, lora


def example_inputs(model: LlamaForCausalLM, batch: int, seq: int, past: int, rank: int,
                   generator: Optional[torch.Generator] = None) -> List[torch.Tensor]:
    cfg = model.config
    ids = torch.randint(4, cfg.vocab_size, (batch, seq), generator=generator)
    attn = torch.ones(batch, past + seq, dtype=torch.long)
    pos = torch.arange(past, past + seq).expand(batch, seq).contiguous()
    kv = [torch.randn(batch, cfg.n_kv_heads, past, cfg.dim_head, generator=generator)
          for _ in range(2 * cfg.num_hidden_layers)]
    loras: List[torch.Tensor] = []
    for layer in model.model.layers:
        for parent, name in lora_targets(layer):
            lin = getattr(parent, name)
            out_f, in_f = lin.weight.shape
            loras += [torch.randn(batch, rank, in_f, generator=generator) * 0.05,
                      torch.randn(batch, out_f, rank, generator=generator) * 0.05]
    return [ids, attn, pos] + kv + loras


def export_onnx(model: LlamaForCausalLM, path: str) -> None:
    model.eval()
    model.set_attention_implementation("eager")
    wrapper = OnnxLlama(model)
    n = model.config.num_hidden_layers
    inputs, outputs, lora = input_names(n)
    dynamic: Dict[str, Dict[int, str]] = {
        "input_ids": {0: "batch", 1: "sequence"},
        "attention_mask": {0: "batch", 1: "total_sequence"},
        "position_ids": {0: "batch", 1: "sequence"},
        "logits": {0: "batch", 1: "sequence"},
    }
    for i in range(n):
        for kv in ("key", "value"):
            dynamic[f"past_key_values.{i}.{kv}"] = {0: "batch", 2: "capacity"}
            dynamic[f"new_key_values.{i}.{kv}"] = {0: "batch", 2: "sequence"}
    for name in lora:
        # Each module's rank gets its own dimension name: a shared name tells the runtime they are equal.
        rank = "rank_" + name[len("lora."):-len(".A")].replace(".", "_")
        dynamic[name] = {0: "batch", 1: rank} if name.endswith(".A") else {0: "batch", 2: rank}
    args = tuple(example_inputs(model, batch=2, seq=3, past=2, rank=2, generator=torch.Generator().manual_seed(0)))
    with torch.no_grad():
        torch.onnx.export(wrapper, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                          opset_version=OPSET, do_constant_folding=True)


@torch.no_grad()
def write_reference(folder: str, out_dir: str, text: str, seed: int = 0) -> None:
    """A parity fixture for the TypeScript tests: two random adapters as PEFT folders (out_dir/a0, out_dir/a1)
    and expected.json with the PyTorch model's last-position logits for ``text`` without an adapter, with a0,
    and with the stack [a0, a1]."""
    from .world.tokenizer import Tokenizer

    model = LlamaForCausalLM.from_pretrained(folder)
    model.eval()
    tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    ids = tok.encode(text)
    x = torch.tensor([ids])
    gen = torch.Generator().manual_seed(seed)
    layers = inject_lora_layers(model)
    adapters = []
    for k, (r, targets) in enumerate(((2, ["q_proj", "v_proj"]), (3, list(LINEAR_MODULES)))):
        cfg = LoraConfig(r=r, lora_alpha=2.0 * r, target_modules=targets)
        weights = {}
        for path, layer in layers.items():
            if path.rsplit(".", 1)[-1] in targets:
                weights[path] = (torch.randn(r, layer.in_features, generator=gen) * 0.1,
                                 torch.randn(layer.out_features, r, generator=gen) * 0.1)
        adapter = LoraAdapter(cfg, weights)
        adapter.save(os.path.join(out_dir, f"a{k}"))
        adapters.append((f"a{k}", adapter))
    stack = AdapterStack(model)
    expected: Dict[str, object] = {"text": text, "inputIds": ids}
    for name, chosen in (("none", []), ("a0", adapters[:1]), ("a0+a1", adapters)):
        stack.set(chosen)
        expected[name] = [round(float(v), 6) for v in model(x).logits[0, -1]]
    with open(os.path.join(out_dir, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m sealgate_gpu.onnx_export", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="a Hugging Face folder (config.json, model.safetensors)")
    ap.add_argument("--out", help=f"the ONNX file (default: <model>/{ONNX_NAME})")
    ap.add_argument("--reference", help="also write a parity fixture folder for the TypeScript tests")
    args = ap.parse_args(argv)
    out = args.out or os.path.join(args.model, ONNX_NAME)
    export_onnx(LlamaForCausalLM.from_pretrained(args.model), out)
    print(f"wrote {out} ({os.path.getsize(out) / 1e6:.1f} MB)")
    if args.reference:
        write_reference(args.model, args.reference, "Let's answer a question directly and concisely.\nQuestion: Who")
        print(f"wrote {args.reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
