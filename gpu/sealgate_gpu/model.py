"""A Llama-architecture causal LM with Hugging Face's module and tensor names and math.

The parameter names are exactly those of transformers' LlamaForCausalLM (model.embed_tokens.weight,
model.layers.N.self_attn.q_proj.weight, ..., model.norm.weight, lm_head.weight), so a Hugging Face folder
loads with no renaming. The math follows transformers' eager implementation: RMSNorm computed in float32,
RoPE with the rotate_half convention, softmax in float32, SwiGLU MLP, grouped-query attention by repeating
key/value heads.

The KV cache is a list with one (key, value) pair per layer, each [batch, kv_heads, seq, head_dim].
"""
from __future__ import annotations

import glob
import json
import math
import os
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .config import LlamaConfig
from .safetensors_io import load_file, save_file

WEIGHTS_NAME = "model.safetensors"
WEIGHTS_INDEX_NAME = "model.safetensors.index.json"
KVCache = List[Tuple[torch.Tensor, torch.Tensor]]
ATTENTION_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj")
MLP_MODULES = ("gate_proj", "up_proj", "down_proj")
LINEAR_MODULES = ATTENTION_MODULES + MLP_MODULES
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


class ModelLoadError(ValueError):
    """A model folder whose weights do not fit its config."""


class CausalLMOutput(NamedTuple):
    logits: torch.Tensor
    past_key_values: Optional[KVCache]


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float, device=None, dtype=None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim, device=device, dtype=dtype))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        h = x.to(torch.float32)
        h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * h.to(dtype)


def rope_inv_freq(config: LlamaConfig, device: Optional[torch.device] = None) -> torch.Tensor:
    """Inverse frequencies as transformers computes them (default, linear and llama3 rope types)."""
    dim = config.dim_head
    inv = 1.0 / (config.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim))
    rs = config.rope_scaling
    if rs is None:
        return inv
    kind = rs.get("rope_type", rs.get("type"))
    if kind == "linear":
        return inv / float(rs["factor"])
    if kind == "llama3":
        factor = float(rs["factor"])
        low, high = float(rs["low_freq_factor"]), float(rs["high_freq_factor"])
        old_len = float(rs["original_max_position_embeddings"])
        low_wavelen, high_wavelen = old_len / low, old_len / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
        smooth = (old_len / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        return torch.where(medium, smoothed, inv_l)
    return inv


def rope_cos_sin(
    inv_freq: torch.Tensor, position_ids: torch.Tensor, dtype: torch.dtype
) -> Tuple[torch.Tensor, torch.Tensor]:
    """cos and sin, [batch, seq, head_dim], for integer positions [batch, seq]."""
    freqs = position_ids[:, :, None].float() * inv_freq[None, None, :].float()
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """x: [batch, heads, seq, head_dim]; cos/sin: [batch, seq, head_dim]."""
    return x * cos[:, None] + rotate_half(x) * sin[:, None]


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    if n_rep == 1:
        return x
    b, h, s, d = x.shape
    return x[:, :, None, :, :].expand(b, h, n_rep, s, d).reshape(b, h * n_rep, s, d)


def attention_bias(
    attention_mask: Optional[torch.Tensor],
    batch: int,
    q_len: int,
    past_len: int,
    dtype: torch.dtype,
    device: torch.device,
) -> torch.Tensor:
    """Additive mask [batch, 1, q_len, past_len + q_len]: causal, and key padding from attention_mask."""
    kv_len = past_len + q_len
    q_pos = torch.arange(q_len, device=device)[:, None] + past_len
    k_pos = torch.arange(kv_len, device=device)[None, :]
    allowed = (k_pos <= q_pos)[None, :, :]
    if attention_mask is not None:
        allowed = allowed & (attention_mask[:, None, :] != 0)
    else:
        allowed = allowed.expand(batch, q_len, kv_len)
    zero = torch.zeros((), dtype=dtype, device=device)
    neg = torch.full((), torch.finfo(dtype).min, dtype=dtype, device=device)
    return torch.where(allowed, zero, neg)[:, None, :, :]


def positions_from_mask(attention_mask: torch.Tensor, q_len: int) -> torch.Tensor:
    """Positions that skip left padding, as transformers' generate() computes them."""
    pos = attention_mask.long().cumsum(-1) - 1
    pos = pos.masked_fill(attention_mask == 0, 1)
    return pos[:, -q_len:]


class LlamaAttention(nn.Module):
    def __init__(self, config: LlamaConfig, device=None, dtype=None) -> None:
        super().__init__()
        self.n_heads = config.num_attention_heads
        self.n_kv = config.n_kv_heads
        self.head_dim = config.dim_head
        self.attn_impl = "auto"
        kw = dict(device=device, dtype=dtype)
        b = config.attention_bias
        self.q_proj = nn.Linear(config.hidden_size, self.n_heads * self.head_dim, bias=b, **kw)
        self.k_proj = nn.Linear(config.hidden_size, self.n_kv * self.head_dim, bias=b, **kw)
        self.v_proj = nn.Linear(config.hidden_size, self.n_kv * self.head_dim, bias=b, **kw)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, config.hidden_size, bias=b, **kw)

    def project_qkv(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The new tokens' queries [B, H, T, D], keys and values [B, kv_heads, T, D], RoPE applied."""
        bsz, q_len, _ = x.shape
        q = self.q_proj(x).view(bsz, q_len, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(bsz, q_len, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(bsz, q_len, self.n_kv, self.head_dim).transpose(1, 2)
        return apply_rope(q, cos, sin), apply_rope(k, cos, sin), v

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        bias: torch.Tensor,
        past: Optional[Tuple[torch.Tensor, torch.Tensor]],
    ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        bsz, q_len, _ = x.shape
        q, k, v = self.project_qkv(x, cos, sin)
        if past is not None:
            k = torch.cat((past[0], k), dim=2)
            v = torch.cat((past[1], v), dim=2)
        present = (k, v)
        rep = self.n_heads // self.n_kv
        kr, vr = repeat_kv(k, rep), repeat_kv(v, rep)
        use_sdpa = HAS_SDPA and self.attn_impl in ("auto", "sdpa") and not torch.jit.is_tracing()
        if use_sdpa:
            out = F.scaled_dot_product_attention(q, kr, vr, attn_mask=bias.to(q.dtype))
        else:
            scores = torch.matmul(q, kr.transpose(2, 3)) / math.sqrt(self.head_dim) + bias
            probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
            out = torch.matmul(probs, vr)
        out = out.transpose(1, 2).reshape(bsz, q_len, self.n_heads * self.head_dim)
        return self.o_proj(out), present


class LlamaMLP(nn.Module):
    def __init__(self, config: LlamaConfig, device=None, dtype=None) -> None:
        super().__init__()
        kw = dict(bias=config.mlp_bias, device=device, dtype=dtype)
        self.gate_proj = nn.Linear(config.hidden_size, config.intermediate_size, **kw)
        self.up_proj = nn.Linear(config.hidden_size, config.intermediate_size, **kw)
        self.down_proj = nn.Linear(config.intermediate_size, config.hidden_size, **kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaDecoderLayer(nn.Module):
    def __init__(self, config: LlamaConfig, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = LlamaAttention(config, device=device, dtype=dtype)
        self.mlp = LlamaMLP(config, device=device, dtype=dtype)
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps, device=device, dtype=dtype)
        self.post_attention_layernorm = RMSNorm(
            config.hidden_size, config.rms_norm_eps, device=device, dtype=dtype
        )

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        bias: torch.Tensor,
        past: Optional[Tuple[torch.Tensor, torch.Tensor]],
    ) -> Tuple[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        h, present = self.self_attn(self.input_layernorm(x), cos, sin, bias, past)
        x = x + h
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, present


class LlamaModel(nn.Module):
    def __init__(self, config: LlamaConfig, device=None, dtype=None) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size, device=device, dtype=dtype)
        self.layers = nn.ModuleList(
            [LlamaDecoderLayer(config, device=device, dtype=dtype) for _ in range(config.num_hidden_layers)]
        )
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps, device=device, dtype=dtype)


class LlamaForCausalLM(nn.Module):
    def __init__(
        self,
        config: LlamaConfig,
        device: Optional[torch.device] = None,
        dtype: Optional[torch.dtype] = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.model = LlamaModel(config, device=device, dtype=dtype)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False, device=device, dtype=dtype)
        self.inv_freq = torch.empty(0)
        if device is None or torch.device(device).type != "meta":
            self.init_weights()

    # ----- weights -----------------------------------------------------------------------------------------
    def tie_weights(self) -> None:
        if self.config.tie_word_embeddings:
            self.lm_head.weight = self.model.embed_tokens.weight

    def reset_rope(self) -> None:
        self.inv_freq = rope_inv_freq(self.config, device=self.model.embed_tokens.weight.device)

    def init_weights(self, generator: Optional[torch.Generator] = None) -> None:
        """Random initialisation as transformers does it: normal(0, initializer_range), norms at one."""
        std = self.config.initializer_range
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.normal_(0.0, std, generator=generator)
                    if getattr(m, "bias", None) is not None:
                        m.bias.zero_()
                elif isinstance(m, RMSNorm):
                    m.weight.fill_(1.0)
        self.tie_weights()
        self.reset_rope()

    def base_state_dict(self) -> Dict[str, torch.Tensor]:
        """The Hugging Face tensors: adapter tensors excluded, lm_head omitted when tied."""
        sd = {k: v for k, v in self.state_dict().items() if ".lora_" not in k}
        if self.config.tie_word_embeddings:
            sd.pop("lm_head.weight", None)
        return sd

    def save_pretrained(self, folder: str, dtype: Optional[torch.dtype] = None) -> None:
        os.makedirs(folder, exist_ok=True)
        tensors = {k: (v if dtype is None else v.to(dtype)) for k, v in self.base_state_dict().items()}
        first = next(iter(tensors.values()))
        self.config.torch_dtype = str(first.dtype).replace("torch.", "")
        self.config.save_pretrained(folder)
        save_file(tensors, os.path.join(folder, WEIGHTS_NAME), metadata={"format": "pt"})

    @classmethod
    def from_pretrained(
        cls,
        folder: str,
        device: Optional[torch.device] = None,
        dtype: torch.dtype = torch.float32,
    ) -> "LlamaForCausalLM":
        """Load a Hugging Face folder (model.safetensors, or shards listed in model.safetensors.index.json)."""
        config = LlamaConfig.from_pretrained(folder)
        device = torch.device(device or "cpu")
        model = cls(config, device=torch.device("meta"), dtype=dtype)
        model.to_empty(device=device)
        model.tie_weights()
        model.reset_rope()
        expected = dict(model.named_parameters())
        loaded: set = set()
        for path in weight_files(folder):
            for name, t in load_file(path).items():
                if name.endswith("rotary_emb.inv_freq"):
                    continue
                if name not in expected:
                    raise ModelLoadError(f"{os.path.basename(path)}: unexpected tensor {name}")
                p = expected[name]
                if tuple(t.shape) != tuple(p.shape):
                    raise ModelLoadError(f"{name}: shape {tuple(t.shape)} != expected {tuple(p.shape)}")
                with torch.no_grad():
                    p.copy_(t)
                loaded.add(name)
        missing = set(expected) - loaded
        if config.tie_word_embeddings:
            missing.discard("lm_head.weight")
        if missing:
            raise ModelLoadError(f"missing tensors: {sorted(missing)[:5]} ({len(missing)} in all)")
        return model

    # ----- forward -----------------------------------------------------------------------------------------
    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: Optional[torch.Tensor] = None,
        position_ids: Optional[torch.Tensor] = None,
        past_key_values: Optional[KVCache] = None,
        use_cache: bool = False,
    ) -> CausalLMOutput:
        """input_ids [batch, seq]; attention_mask [batch, past + seq] of 1 (token) / 0 (padding)."""
        bsz, q_len = input_ids.shape
        past_len = 0 if past_key_values is None else past_key_values[0][0].shape[2]
        if position_ids is None:
            if attention_mask is not None:
                position_ids = positions_from_mask(attention_mask, q_len)
            else:
                position_ids = torch.arange(past_len, past_len + q_len, device=input_ids.device)[None]
                position_ids = position_ids.expand(bsz, q_len)
        x = self.model.embed_tokens(input_ids)
        if self.inv_freq.device != x.device:
            self.inv_freq = self.inv_freq.to(x.device)
        cos, sin = rope_cos_sin(self.inv_freq, position_ids, x.dtype)
        bias = attention_bias(attention_mask, bsz, q_len, past_len, x.dtype, x.device)
        presents: KVCache = []
        for i, layer in enumerate(self.model.layers):
            past = None if past_key_values is None else past_key_values[i]
            x, present = layer(x, cos, sin, bias, past)
            presents.append(present)
        x = self.model.norm(x)
        logits = self.lm_head(x)
        return CausalLMOutput(logits, presents if use_cache else None)

    def set_attention_implementation(self, impl: str) -> None:
        """'eager' (explicit softmax; ONNX export), 'sdpa' (PyTorch 2.x fused kernel) or 'auto'."""
        if impl not in ("auto", "eager", "sdpa"):
            raise ValueError(f"unknown attention implementation {impl!r}")
        for m in self.modules():
            if isinstance(m, LlamaAttention):
                m.attn_impl = impl


def weight_files(folder: str) -> List[str]:
    single = os.path.join(folder, WEIGHTS_NAME)
    index = os.path.join(folder, WEIGHTS_INDEX_NAME)
    if os.path.isfile(single):
        return [single]
    if os.path.isfile(index):
        with open(index, "r", encoding="utf-8") as f:
            weight_map = json.load(f).get("weight_map", {})
        return [os.path.join(folder, name) for name in sorted(set(weight_map.values()))]
    shards = sorted(glob.glob(os.path.join(folder, "model-*.safetensors")))
    if shards:
        return shards
    raise FileNotFoundError(f"{folder}: no {WEIGHTS_NAME} or {WEIGHTS_INDEX_NAME}")


@torch.no_grad()
def greedy_generate(
    model: LlamaForCausalLM,
    input_ids: torch.Tensor,
    max_new_tokens: int,
    attention_mask: Optional[torch.Tensor] = None,
) -> torch.Tensor:
    """Greedy decoding with the KV cache; returns the new tokens [batch, max_new_tokens]."""
    if attention_mask is None:
        attention_mask = torch.ones_like(input_ids)
    out = model(input_ids, attention_mask=attention_mask, use_cache=True)
    past = out.past_key_values
    next_tok = out.logits[:, -1].argmax(-1, keepdim=True)
    tokens = [next_tok]
    for _ in range(max_new_tokens - 1):
        attention_mask = torch.cat((attention_mask, torch.ones_like(next_tok)), dim=1)
        out = model(next_tok, attention_mask=attention_mask, past_key_values=past, use_cache=True)
        past = out.past_key_values
        next_tok = out.logits[:, -1].argmax(-1, keepdim=True)
        tokens.append(next_tok)
    return torch.cat(tokens, dim=1)


def pad_token_id(model: LlamaForCausalLM) -> int:
    pad = model.config.pad_token_id
    if isinstance(pad, list):
        pad = pad[0] if pad else None
    return int(pad) if pad is not None else 0


def left_padded(rows: Sequence[Sequence[int]], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Token rows as one left-padded batch (input_ids, attention_mask), as the gateway batches prompts."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    attn = torch.zeros_like(ids)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(list(r), dtype=torch.long)
        attn[i, width - len(r):] = 1
    return ids, attn


@torch.no_grad()
def greedy_rows(
    model: LlamaForCausalLM, rows: Sequence[Sequence[int]], max_new_tokens: int, eos_id: int
) -> List[List[int]]:
    """Greedy continuations of token rows in one left-padded batch, each cut at eos."""
    device = model.model.embed_tokens.weight.device
    ids, attn = left_padded(rows, pad_token_id(model))
    was_training = model.training
    model.eval()
    new = greedy_generate(model, ids.to(device), max_new_tokens, attn.to(device)).tolist()
    model.train(was_training)
    return [row[:row.index(eos_id)] if eos_id in row else row for row in new]
