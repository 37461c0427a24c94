"""The Hugging Face Llama `config.json`, as a dataclass."""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Union

CONFIG_NAME = "config.json"
TokenIds = Optional[Union[int, List[int]]]


class ConfigError(ValueError):
    """A config.json this code cannot serve."""


@dataclass
class LlamaConfig:
    vocab_size: int = 32000
    hidden_size: int = 4096
    intermediate_size: int = 11008
    num_hidden_layers: int = 32
    num_attention_heads: int = 32
    num_key_value_heads: Optional[int] = None
    head_dim: Optional[int] = None
    max_position_embeddings: int = 2048
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    rope_scaling: Optional[Dict[str, Any]] = None
    hidden_act: str = "silu"
    attention_bias: bool = False
    mlp_bias: bool = False
    attention_dropout: float = 0.0
    tie_word_embeddings: bool = False
    initializer_range: float = 0.02
    bos_token_id: TokenIds = 1
    eos_token_id: TokenIds = 2
    pad_token_id: TokenIds = None
    torch_dtype: str = "float32"
    use_cache: bool = True
    pretraining_tp: int = 1
    architectures: List[str] = field(default_factory=lambda: ["LlamaForCausalLM"])
    model_type: str = "llama"
    # Fields of a config.json this class does not model; kept so that a load/save round-trip loses nothing.
    extra: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.num_key_value_heads is None:
            self.num_key_value_heads = self.num_attention_heads
        if self.head_dim is None:
            self.head_dim = self.hidden_size // self.num_attention_heads
        self.validate()

    def validate(self) -> None:
        if self.model_type != "llama":
            raise ConfigError(f"model_type {self.model_type!r} is not 'llama'")
        if self.hidden_act != "silu":
            raise ConfigError(f"hidden_act {self.hidden_act!r} is not supported (only 'silu')")
        if self.num_attention_heads <= 0 or self.num_key_value_heads <= 0:
            raise ConfigError("attention head counts must be positive")
        if self.num_attention_heads % int(self.num_key_value_heads):
            raise ConfigError("num_attention_heads must be a multiple of num_key_value_heads")
        if int(self.head_dim) % 2:
            raise ConfigError("head_dim must be even for rotary embeddings")
        if self.pretraining_tp != 1:
            raise ConfigError("pretraining_tp != 1 is not supported")
        if self.rope_scaling is not None:
            kind = self.rope_scaling.get("rope_type", self.rope_scaling.get("type"))
            if kind not in ("default", "linear", "llama3"):
                raise ConfigError(f"rope_scaling type {kind!r} is not supported")

    @property
    def n_kv_heads(self) -> int:
        return int(self.num_key_value_heads)  # type: ignore[arg-type]

    @property
    def dim_head(self) -> int:
        return int(self.head_dim)  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "LlamaConfig":
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        kwargs = {k: v for k, v in d.items() if k in known}
        extra = {k: v for k, v in d.items() if k not in known}
        try:
            return cls(**kwargs, extra=extra)
        except TypeError as e:
            raise ConfigError(str(e)) from e

    def to_dict(self) -> Dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        d.update(self.extra)
        return d

    @classmethod
    def from_pretrained(cls, folder: str) -> "LlamaConfig":
        path = os.path.join(folder, CONFIG_NAME)
        try:
            with open(path, "r", encoding="utf-8") as f:
                data = json.load(f)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: invalid JSON: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: not a JSON object")
        return cls.from_dict(data)

    def save_pretrained(self, folder: str) -> None:
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, CONFIG_NAME), "w", encoding="utf-8") as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write("\n")
