"""LoRA adapters in PEFT's folder format, and an ordered stack of them on one model.

A PEFT folder holds adapter_config.json and adapter_model.safetensors with tensors named
`base_model.model.<module path>.lora_A.weight` ([r, in]) and `...lora_B.weight` ([out, r]); PEFT computes
y = W x + scaling * B A dropout(x), scaling = lora_alpha / r (lora_alpha / sqrt(r) with use_rslora).

The stack on a model is rank concatenation: for every adapted linear layer, A_stack = [A_1; A_2; ...] (rows) and
B_stack = [s_1 B_1, s_2 B_2, ...] (columns), so B_stack A_stack = sum_i s_i B_i A_i. The concatenation is rebuilt
from the remaining adapters whenever the stack changes, so removing an adapter gives exactly the tensors (and
logits) of a stack that never held it. One trainable adapter can sit on top of the frozen stack.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .model import LINEAR_MODULES
from .safetensors_io import load_file, save_file

ADAPTER_CONFIG_NAME = "adapter_config.json"
ADAPTER_WEIGHTS_NAME = "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."
LORA_DTYPE = torch.float32


class AdapterError(ValueError):
    """An adapter folder that is invalid or does not fit the model."""


@dataclass
class LoraConfig:
    r: int = 8
    lora_alpha: float = 16.0
    target_modules: List[str] = field(default_factory=lambda: ["q_proj", "v_proj"])
    lora_dropout: float = 0.0
    base_model_name_or_path: Optional[str] = None
    use_rslora: bool = False
    inference_mode: bool = True
    rank_pattern: Dict[str, int] = field(default_factory=dict)
    alpha_pattern: Dict[str, float] = field(default_factory=dict)
    # Other adapter_config.json fields, kept on a round-trip.
    extra: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if not isinstance(self.r, int) or isinstance(self.r, bool) or self.r <= 0:
            raise AdapterError(f"r must be a positive integer, got {self.r!r}")
        if not isinstance(self.lora_alpha, (int, float)) or self.lora_alpha <= 0:
            raise AdapterError(f"lora_alpha must be positive, got {self.lora_alpha!r}")
        if not isinstance(self.lora_dropout, (int, float)) or not 0.0 <= self.lora_dropout < 1.0:
            raise AdapterError(f"lora_dropout must be in [0, 1), got {self.lora_dropout!r}")
        if isinstance(self.target_modules, str) or not self.target_modules:
            raise AdapterError("target_modules must be a non-empty list of module names")
        bad = [m for m in self.target_modules if m not in LINEAR_MODULES]
        if bad:
            raise AdapterError(f"unsupported target_modules {bad}; allowed: {list(LINEAR_MODULES)}")

    def scaling(self, module_path: str, rank: int) -> float:
        """PEFT's scaling for one module: alpha / r, with rank_pattern/alpha_pattern overrides."""
        alpha = float(self.lora_alpha)
        for key, value in self.alpha_pattern.items():
            if module_path == key or module_path.endswith("." + key):
                alpha = float(value)
        return alpha / math.sqrt(rank) if self.use_rslora else alpha / rank

    def to_peft_dict(self) -> Dict[str, Any]:
        d: Dict[str, Any] = {
            "alpha_pattern": dict(self.alpha_pattern),
            "auto_mapping": None,
            "base_model_name_or_path": self.base_model_name_or_path,
            "bias": "none",
            "fan_in_fan_out": False,
            "inference_mode": self.inference_mode,
            "init_lora_weights": True,
            "layers_pattern": None,
            "layers_to_transform": None,
            "lora_alpha": self.lora_alpha,
            "lora_dropout": self.lora_dropout,
            "modules_to_save": None,
            "peft_type": "LORA",
            "r": self.r,
            "rank_pattern": dict(self.rank_pattern),
            "revision": None,
            "target_modules": list(self.target_modules),
            "task_type": "CAUSAL_LM",
            "use_dora": False,
            "use_rslora": self.use_rslora,
        }
        d.update(self.extra)
        return d

    @classmethod
    def from_peft_dict(cls, d: Dict[str, Any]) -> "LoraConfig":
        if d.get("peft_type") != "LORA":
            raise AdapterError(f"peft_type {d.get('peft_type')!r} is not 'LORA'")
        if d.get("bias", "none") != "none":
            raise AdapterError("only bias 'none' adapters are supported")
        if d.get("fan_in_fan_out"):
            raise AdapterError("fan_in_fan_out adapters are not supported")
        if d.get("use_dora"):
            raise AdapterError("DoRA adapters are not supported")
        if d.get("modules_to_save"):
            raise AdapterError("modules_to_save is not supported")
        for unsupported in ("layers_to_transform", "layer_replication", "trainable_token_indices"):
            if d.get(unsupported) is not None:
                raise AdapterError(f"{unsupported} is not supported")
        if d.get("lora_bias"):
            raise AdapterError("lora_bias adapters are not supported")
        if d.get("task_type", "CAUSAL_LM") != "CAUSAL_LM":
            raise AdapterError(f"task_type {d.get('task_type')!r} is not CAUSAL_LM")
        targets = d.get("target_modules")
        if isinstance(targets, str):
            raise AdapterError("target_modules as a regular expression is not supported; list the names")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        fixed = {
            "peft_type", "bias", "fan_in_fan_out", "use_dora", "modules_to_save", "layers_to_transform",
            "task_type", "auto_mapping", "init_lora_weights", "layers_pattern", "revision",
        }
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["rank_pattern"] = kwargs.get("rank_pattern") or {}
        kwargs["alpha_pattern"] = kwargs.get("alpha_pattern") or {}
        extra = {k: v for k, v in d.items() if k not in known and k not in fixed}
        try:
            return cls(**kwargs, extra=extra)
        except TypeError as e:
            raise AdapterError(str(e)) from e


@dataclass
class LoraAdapter:
    """One adapter: its config and, per module path (e.g. model.layers.0.self_attn.q_proj), (A, B)."""

    config: LoraConfig
    weights: Dict[str, Tuple[torch.Tensor, torch.Tensor]]

    def save(self, folder: str, metadata: Optional[Dict[str, str]] = None) -> None:
        os.makedirs(folder, exist_ok=True)
        tensors: Dict[str, torch.Tensor] = {}
        for path, (a, b) in self.weights.items():
            tensors[f"{PEFT_PREFIX}{path}.lora_A.weight"] = a.detach().to("cpu").contiguous()
            tensors[f"{PEFT_PREFIX}{path}.lora_B.weight"] = b.detach().to("cpu").contiguous()
        meta = {"format": "pt"}
        meta.update(metadata or {})
        save_file(tensors, os.path.join(folder, ADAPTER_WEIGHTS_NAME), metadata=meta)
        tmp = os.path.join(folder, ADAPTER_CONFIG_NAME + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.config.to_peft_dict(), f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, os.path.join(folder, ADAPTER_CONFIG_NAME))

    @classmethod
    def load(cls, folder: str) -> "LoraAdapter":
        cfg_path = os.path.join(folder, ADAPTER_CONFIG_NAME)
        w_path = os.path.join(folder, ADAPTER_WEIGHTS_NAME)
        for p in (cfg_path, w_path):
            if not os.path.isfile(p):
                raise FileNotFoundError(f"{p} not found")
        try:
            with open(cfg_path, "r", encoding="utf-8") as f:
                cfg = json.load(f)
        except json.JSONDecodeError as e:
            raise AdapterError(f"{cfg_path}: invalid JSON: {e}") from e
        if not isinstance(cfg, dict):
            raise AdapterError(f"{cfg_path}: not a JSON object")
        config = LoraConfig.from_peft_dict(cfg)
        halves: Dict[str, Dict[str, torch.Tensor]] = {}
        for name, t in load_file(w_path).items():
            path, which = _parse_peft_name(name)
            if t.dim() != 2 or not t.is_floating_point():
                raise AdapterError(f"{name}: expected a 2-D floating-point tensor")
            if not bool(torch.isfinite(t).all()):
                raise AdapterError(f"{name}: non-finite values")
            halves.setdefault(path, {})[which] = t
        weights: Dict[str, Tuple[torch.Tensor, torch.Tensor]] = {}
        for path, h in halves.items():
            if set(h) != {"A", "B"}:
                raise AdapterError(f"{path}: lora_A and lora_B must both be present")
            a, b = h["A"], h["B"]
            if a.shape[0] != b.shape[1]:
                raise AdapterError(f"{path}: lora_A {tuple(a.shape)} and lora_B {tuple(b.shape)} ranks differ")
            if path.rsplit(".", 1)[-1] not in config.target_modules:
                raise AdapterError(f"{path}: not among target_modules {config.target_modules}")
            weights[path] = (a, b)
        if not weights:
            raise AdapterError(f"{w_path}: no LoRA tensors")
        return cls(config, weights)


def _parse_peft_name(name: str) -> Tuple[str, str]:
    if not name.startswith(PEFT_PREFIX):
        raise AdapterError(f"{name}: not a PEFT tensor name (expected prefix {PEFT_PREFIX!r})")
    rest = name[len(PEFT_PREFIX):]
    for which in ("A", "B"):
        for suffix in (f".lora_{which}.weight", f".lora_{which}.default.weight"):
            if rest.endswith(suffix):
                return rest[: -len(suffix)], which
    raise AdapterError(f"{name}: not a lora_A/lora_B weight")


class LoraLinear(nn.Module):
    """A linear layer (same `weight`/`bias` names as nn.Linear) plus a frozen LoRA stack and a trainable LoRA."""

    def __init__(self, base: nn.Linear) -> None:
        super().__init__()
        self.in_features = base.in_features
        self.out_features = base.out_features
        self.weight = base.weight
        self.bias = base.bias
        dev = base.weight.device
        self.register_buffer("lora_stack_A", torch.zeros(0, self.in_features, dtype=LORA_DTYPE, device=dev),
                             persistent=False)
        self.register_buffer("lora_stack_B", torch.zeros(self.out_features, 0, dtype=LORA_DTYPE, device=dev),
                             persistent=False)
        self.lora_A: Optional[nn.Parameter]
        self.lora_B: Optional[nn.Parameter]
        self.register_parameter("lora_A", None)
        self.register_parameter("lora_B", None)
        self.lora_scaling = 0.0
        self.lora_dropout: nn.Module = nn.Identity()
        # Grouped adapters (sealgate_gpu.seal.grouped_lora): K independent adapters, one per contiguous group of
        # batch rows, so that K trials train and evaluate in one batched pass.
        self.group_delta: Optional[Callable[[torch.Tensor], torch.Tensor]] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)
        if self.lora_stack_A.shape[0] > 0:
            h = x.to(self.lora_stack_A.dtype)
            y = y + F.linear(F.linear(h, self.lora_stack_A), self.lora_stack_B).to(y.dtype)
        if self.lora_A is not None and self.lora_B is not None:
            h = self.lora_dropout(x.to(self.lora_A.dtype))
            y = y + (F.linear(F.linear(h, self.lora_A), self.lora_B) * self.lora_scaling).to(y.dtype)
        if self.group_delta is not None:
            y = y + self.group_delta(x).to(y.dtype)
        return y

    def set_stack(self, a: torch.Tensor, b: torch.Tensor) -> None:
        self.lora_stack_A = a.to(device=self.weight.device, dtype=LORA_DTYPE).contiguous()
        self.lora_stack_B = b.to(device=self.weight.device, dtype=LORA_DTYPE).contiguous()

    def stack_rank(self) -> int:
        return int(self.lora_stack_A.shape[0])


def inject_lora_layers(model: nn.Module) -> Dict[str, LoraLinear]:
    """Replace every q/k/v/o/gate/up/down nn.Linear by a LoraLinear (idempotent); returns them by path."""
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            if child_name in LINEAR_MODULES and type(child) is nn.Linear:
                setattr(parent, child_name, LoraLinear(child))
    return {name: m for name, m in model.named_modules() if isinstance(m, LoraLinear)}


class AdapterStack:
    """An ordered stack of frozen adapters on one model, and at most one trainable adapter on top."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.layers = inject_lora_layers(model)
        self._stack: List[Tuple[str, LoraAdapter]] = []
        self._trainable: Optional[LoraConfig] = None

    # ----- the frozen stack --------------------------------------------------------------------------------
    @property
    def names(self) -> List[str]:
        return [n for n, _ in self._stack]

    def check(self, adapter: LoraAdapter) -> None:
        for path, (a, b) in adapter.weights.items():
            layer = self.layers.get(path)
            if layer is None:
                raise AdapterError(f"{path}: the model has no such adaptable layer")
            if a.shape[1] != layer.in_features or b.shape[0] != layer.out_features:
                raise AdapterError(
                    f"{path}: lora_A {tuple(a.shape)} / lora_B {tuple(b.shape)} do not fit a "
                    f"{layer.in_features}->{layer.out_features} layer"
                )

    def push(self, adapter: LoraAdapter, name: Optional[str] = None) -> str:
        name = name or f"adapter_{len(self._stack)}"
        if name in self.names:
            raise AdapterError(f"an adapter named {name!r} is already on the stack")
        self.check(adapter)
        self._stack.append((name, adapter))
        self._rebuild()
        return name

    def remove(self, name: str) -> LoraAdapter:
        for i, (n, adapter) in enumerate(self._stack):
            if n == name:
                del self._stack[i]
                self._rebuild()
                return adapter
        raise KeyError(name)

    def set(self, adapters: Sequence[Tuple[str, LoraAdapter]]) -> None:
        for _, adapter in adapters:
            self.check(adapter)
        if len({n for n, _ in adapters}) != len(adapters):
            raise AdapterError("adapter names on a stack must be unique")
        self._stack = list(adapters)
        self._rebuild()

    def clear(self) -> None:
        self.set([])

    def _rebuild(self) -> None:
        for path, layer in self.layers.items():
            parts_a: List[torch.Tensor] = []
            parts_b: List[torch.Tensor] = []
            for _, adapter in self._stack:
                ab = adapter.weights.get(path)
                if ab is None:
                    continue
                a, b = ab
                s = adapter.config.scaling(path, int(a.shape[0]))
                parts_a.append(a.to(LORA_DTYPE))
                parts_b.append(b.to(LORA_DTYPE) * s)
            if parts_a:
                layer.set_stack(torch.cat(parts_a, dim=0), torch.cat(parts_b, dim=1))
            else:
                layer.set_stack(torch.zeros(0, layer.in_features), torch.zeros(layer.out_features, 0))

    # ----- the trainable adapter ---------------------------------------------------------------------------
    def add_trainable(self, config: LoraConfig, generator: Optional[torch.Generator] = None) -> List[nn.Parameter]:
        """A fresh adapter as PEFT initialises it (A ~ kaiming-uniform, B = 0); returns its parameters."""
        if self._trainable is not None:
            raise AdapterError("a trainable adapter is already attached")
        params: List[nn.Parameter] = []
        for path, layer in self.layers.items():
            if path.rsplit(".", 1)[-1] not in config.target_modules:
                continue
            r = config.rank_pattern.get(path.rsplit(".", 1)[-1], config.r)
            dev = layer.weight.device
            a = torch.empty(r, layer.in_features, dtype=LORA_DTYPE)
            bound = 1.0 / math.sqrt(layer.in_features)
            a.uniform_(-bound, bound, generator=generator)
            layer.lora_A = nn.Parameter(a.to(dev))
            layer.lora_B = nn.Parameter(torch.zeros(layer.out_features, r, dtype=LORA_DTYPE, device=dev))
            layer.lora_scaling = config.scaling(path, r)
            layer.lora_dropout = nn.Dropout(config.lora_dropout) if config.lora_dropout > 0 else nn.Identity()
            params += [layer.lora_A, layer.lora_B]
        if not params:
            raise AdapterError("target_modules matched no layer")
        self._trainable = config
        return params

    def trainable_adapter(self) -> LoraAdapter:
        """The trainable adapter's current weights, as a standalone (CPU) adapter."""
        if self._trainable is None:
            raise AdapterError("no trainable adapter attached")
        weights = {
            path: (layer.lora_A.detach().cpu().clone(), layer.lora_B.detach().cpu().clone())
            for path, layer in self.layers.items()
            if layer.lora_A is not None and layer.lora_B is not None
        }
        return LoraAdapter(dataclasses.replace(self._trainable, inference_mode=True), weights)

    def drop_trainable(self) -> None:
        for layer in self.layers.values():
            layer.lora_A = None
            layer.lora_B = None
            layer.lora_scaling = 0.0
            layer.lora_dropout = nn.Identity()
        self._trainable = None

    def freeze_base(self) -> None:
        for name, p in self.model.named_parameters():
            if ".lora_" not in name:
                p.requires_grad_(False)


def load_adapters(folders: Iterable[str]) -> List[Tuple[str, LoraAdapter]]:
    """Load adapter folders in order; each is named by its folder path."""
    return [(f, LoraAdapter.load(f)) for f in folders]
