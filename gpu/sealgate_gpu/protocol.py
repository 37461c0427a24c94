"""Request validation for the trainer's JSON-lines protocol (see gpu/README.md)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from .lora import AdapterError, LoraConfig
from .training import TokenSequence, TrainParams

PROTOCOL_VERSION = 1
REQUEST_TYPES = ("hello", "train", "cancel", "shutdown")


class ProtocolError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bad(message: str) -> ProtocolError:
    return ProtocolError("BAD_REQUEST", message)


@dataclass
class TrainRequest:
    base_model: str
    adapters: List[str]
    sequences: List[TokenSequence]
    params: TrainParams
    output_dir: str
    overwrite: bool
    dtype: Optional[str]


def _get(req: Dict[str, Any], key: str, kind: type, default: Any = None, required: bool = False) -> Any:
    if key not in req or req[key] is None:
        if required:
            raise bad(f"'{key}' is required")
        return default
    value = req[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind in (int, float) and isinstance(value, bool)):
        raise bad(f"'{key}' must be of type {kind.__name__}")
    return value


def _existing_dir(path: str, what: str) -> str:
    if not os.path.isdir(path):
        raise ProtocolError("NOT_FOUND", f"{what} folder not found: {path}")
    return path


def parse_sequences(raw: Any, vocab_size: Optional[int] = None) -> List[TokenSequence]:
    if not isinstance(raw, list) or not raw:
        raise bad("'sequences' must be a non-empty list")
    out: List[TokenSequence] = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict):
            raise bad(f"sequences[{i}] must be an object with input_ids and loss_mask")
        ids, mask = s.get("input_ids"), s.get("loss_mask")
        if not isinstance(ids, list) or len(ids) < 2:
            raise bad(f"sequences[{i}].input_ids must be a list of at least 2 token ids")
        if not all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in ids):
            raise bad(f"sequences[{i}].input_ids must hold non-negative integers")
        if vocab_size is not None and max(ids) >= vocab_size:
            raise bad(f"sequences[{i}]: token id {max(ids)} >= vocab_size {vocab_size}")
        if not isinstance(mask, list) or len(mask) != len(ids):
            raise bad(f"sequences[{i}].loss_mask must be a list as long as input_ids")
        if not all(m in (0, 1) for m in mask):
            raise bad(f"sequences[{i}].loss_mask must hold 0 or 1")
        if not any(mask[1:]):
            raise bad(f"sequences[{i}] has no loss token (loss_mask[1:] is all 0)")
        out.append(TokenSequence([int(t) for t in ids], [int(m) for m in mask]))
    return out


def read_sequences_file(path: str) -> List[Any]:
    if not os.path.isfile(path):
        raise ProtocolError("NOT_FOUND", f"sequences file not found: {path}")
    rows: List[Any] = []
    with open(path, "r", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise bad(f"{path}:{n}: invalid JSON: {e}") from e
    return rows


def parse_lora(raw: Any, base_model: str) -> LoraConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise bad("'lora' must be an object")
    unknown = set(raw) - {"r", "alpha", "lora_alpha", "dropout", "lora_dropout", "target_modules", "use_rslora",
                          "base_model_name_or_path"}
    if unknown:
        raise bad(f"unknown lora fields: {sorted(unknown)}")
    try:
        return LoraConfig(
            r=_get(raw, "r", int, 8),
            lora_alpha=_get(raw, "alpha", float, _get(raw, "lora_alpha", float, 16.0)),
            lora_dropout=_get(raw, "dropout", float, _get(raw, "lora_dropout", float, 0.0)),
            target_modules=_get(raw, "target_modules", list, ["q_proj", "v_proj"]),
            use_rslora=_get(raw, "use_rslora", bool, False),
            base_model_name_or_path=_get(raw, "base_model_name_or_path", str, base_model),
        )
    except AdapterError as e:
        raise bad(f"lora: {e}") from e


TRAIN_FIELDS = {"id", "type", "base_model", "adapters", "sequences", "sequences_path", "lora", "lr", "epochs",
                "batch_size", "seed", "weight_decay", "max_grad_norm", "warmup_steps", "shuffle", "output_dir",
                "overwrite", "dtype"}


def parse_train(req: Dict[str, Any], vocab_size: Optional[int] = None) -> TrainRequest:
    unknown = set(req) - TRAIN_FIELDS
    if unknown:  # a misspelt hyperparameter must not silently train with the default
        raise bad(f"unknown train fields: {sorted(unknown)}")
    base = _existing_dir(_get(req, "base_model", str, required=True), "base_model")
    adapters = _get(req, "adapters", list, [])
    if not all(isinstance(a, str) for a in adapters):
        raise bad("'adapters' must be a list of folder paths")
    for a in adapters:
        _existing_dir(a, "adapter")
    if "sequences_path" in req and "sequences" in req:
        raise bad("give either 'sequences' or 'sequences_path', not both")
    raw = req.get("sequences")
    if "sequences_path" in req:
        raw = read_sequences_file(_get(req, "sequences_path", str, required=True))
    sequences = parse_sequences(raw, vocab_size)
    params = TrainParams(
        lora=parse_lora(req.get("lora"), base),
        lr=_get(req, "lr", float, 1e-3),
        epochs=_get(req, "epochs", int, 1),
        batch_size=_get(req, "batch_size", int, 8),
        seed=_get(req, "seed", int, 0),
        weight_decay=_get(req, "weight_decay", float, 0.0),
        max_grad_norm=_get(req, "max_grad_norm", float, 1.0),
        warmup_steps=_get(req, "warmup_steps", int, 0),
        shuffle=_get(req, "shuffle", bool, True),
    )
    if not params.lr > 0 or params.epochs < 1 or params.batch_size < 1 or params.warmup_steps < 0:
        raise bad("lr must be > 0, epochs and batch_size >= 1, warmup_steps >= 0")
    if params.max_grad_norm is not None and params.max_grad_norm < 0:
        raise bad("max_grad_norm must be >= 0 (0: no clipping)")
    output_dir = _get(req, "output_dir", str, required=True)
    dtype = _get(req, "dtype", str, None)
    if dtype not in (None, "auto", "float32", "bfloat16", "float16"):
        raise bad("'dtype' must be auto, float32, bfloat16 or float16")
    return TrainRequest(
        base_model=base,
        adapters=adapters,
        sequences=sequences,
        params=params,
        output_dir=output_dir,
        overwrite=_get(req, "overwrite", bool, False),
        dtype=None if dtype == "auto" else dtype,
    )
