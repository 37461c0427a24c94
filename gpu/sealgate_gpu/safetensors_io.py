"""Reading and writing .safetensors files without the `safetensors` package.

Format (https://github.com/huggingface/safetensors):
  8 bytes   little-endian u64 N, the header length
  N bytes   UTF-8 JSON: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
            "__metadata__": {str: str}} (optional metadata), padded with spaces to a multiple of 8
  rest      the tensors' raw little-endian bytes; data_offsets are relative to the start of this area
"""
from __future__ import annotations

import ctypes
import json
import math
import os
import struct
import sys
from typing import BinaryIO, Dict, Iterable, List, Mapping, Optional, Tuple

import torch

DTYPE_TO_TORCH: Dict[str, torch.dtype] = {
    "F64": torch.float64,
    "F32": torch.float32,
    "F16": torch.float16,
    "BF16": torch.bfloat16,
    "I64": torch.int64,
    "I32": torch.int32,
    "I16": torch.int16,
    "I8": torch.int8,
    "U8": torch.uint8,
    "BOOL": torch.bool,
}
TORCH_TO_DTYPE: Dict[torch.dtype, str] = {v: k for k, v in DTYPE_TO_TORCH.items()}
ITEM_SIZE: Dict[str, int] = {
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}
MAX_HEADER_BYTES = 100 * 1024 * 1024  # the reference implementation's limit


class SafetensorsError(ValueError):
    """A file that is not valid safetensors, or a tensor that cannot be stored."""


def _check_little_endian() -> None:
    if sys.byteorder != "little":
        raise SafetensorsError("big-endian hosts are not supported")


def _tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().to("cpu").contiguous()
    nbytes = t.numel() * t.element_size()
    if nbytes == 0:
        return b""
    return ctypes.string_at(t.data_ptr(), nbytes)


def _header_bytes(header: Mapping[str, object]) -> bytes:
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    pad = (-(8 + len(raw))) % 8
    return raw + b" " * pad


def save_file(
    tensors: Mapping[str, torch.Tensor],
    path: str,
    metadata: Optional[Mapping[str, str]] = None,
) -> None:
    """Write tensors (name -> tensor) to `path`, atomically (a temporary file, then a rename)."""
    _check_little_endian()
    header: Dict[str, object] = {}
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise SafetensorsError("__metadata__ keys and values must be strings")
        header["__metadata__"] = dict(metadata)
    offset = 0
    order: List[Tuple[str, torch.Tensor]] = []
    # Sorted by name, as the reference implementation stores them (stable digests for equal content).
    for name in sorted(tensors):
        t = tensors[name]
        if name == "__metadata__":
            raise SafetensorsError("'__metadata__' is reserved")
        if not isinstance(t, torch.Tensor):
            raise SafetensorsError(f"{name}: not a tensor")
        if t.dtype not in TORCH_TO_DTYPE:
            raise SafetensorsError(f"{name}: unsupported dtype {t.dtype}")
        if t.layout != torch.strided:
            raise SafetensorsError(f"{name}: only dense tensors can be stored")
        n = t.numel() * t.element_size()
        header[name] = {
            "dtype": TORCH_TO_DTYPE[t.dtype],
            "shape": list(t.shape),
            "data_offsets": [offset, offset + n],
        }
        order.append((name, t))
        offset += n
    hb = _header_bytes(header)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(struct.pack("<Q", len(hb)))
            f.write(hb)
            for _, t in order:
                f.write(_tensor_bytes(t))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _read_header(f: BinaryIO, file_size: int) -> Tuple[Dict[str, dict], Dict[str, str], int]:
    raw_len = f.read(8)
    if len(raw_len) != 8:
        raise SafetensorsError("file too short for a safetensors header")
    (n,) = struct.unpack("<Q", raw_len)
    if n > MAX_HEADER_BYTES or 8 + n > file_size:
        raise SafetensorsError(f"header length {n} is invalid for a file of {file_size} bytes")
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"header is not valid JSON: {e}") from e
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise SafetensorsError("__metadata__ must map strings to strings")
    data_size = file_size - 8 - n
    spans: List[Tuple[int, int, str]] = []
    for name, info in header.items():
        if not isinstance(info, dict):
            raise SafetensorsError(f"{name}: entry is not an object")
        dtype, shape, offs = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        if dtype not in DTYPE_TO_TORCH:
            raise SafetensorsError(f"{name}: unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorsError(f"{name}: invalid shape {shape!r}")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) for o in offs)
            or not 0 <= offs[0] <= offs[1] <= data_size
        ):
            raise SafetensorsError(f"{name}: invalid data_offsets {offs!r}")
        if offs[1] - offs[0] != math.prod(shape) * ITEM_SIZE[dtype]:
            raise SafetensorsError(f"{name}: data_offsets do not match shape {shape} and dtype {dtype}")
        spans.append((offs[0], offs[1], name))
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise SafetensorsError(f"tensors {n0} and {n1} overlap")
    return header, metadata, 8 + n


def read_header(path: str) -> Tuple[Dict[str, dict], Dict[str, str]]:
    """The tensor entries (name -> dtype/shape/data_offsets) and the metadata, without reading data."""
    with open(path, "rb") as f:
        header, metadata, _ = _read_header(f, os.fstat(f.fileno()).st_size)
    return header, metadata


def load_file(
    path: str,
    names: Optional[Iterable[str]] = None,
    device: Optional[torch.device] = None,
) -> Dict[str, torch.Tensor]:
    """Read tensors from `path` (all, or only `names`), each into its own CPU buffer, then to `device`."""
    _check_little_endian()
    with open(path, "rb") as f:
        header, _, data_start = _read_header(f, os.fstat(f.fileno()).st_size)
        wanted = list(header) if names is None else list(names)
        out: Dict[str, torch.Tensor] = {}
        for name in wanted:
            if name not in header:
                raise SafetensorsError(f"{path}: no tensor named {name}")
            info = header[name]
            dtype = DTYPE_TO_TORCH[info["dtype"]]
            begin, end = info["data_offsets"]
            if end == begin:
                t = torch.empty(info["shape"], dtype=dtype)
            else:
                buf = bytearray(end - begin)
                f.seek(data_start + begin)
                if f.readinto(buf) != len(buf):
                    raise SafetensorsError(f"{path}: truncated data for {name}")
                t = torch.frombuffer(buf, dtype=dtype).reshape(info["shape"])
            out[name] = t if device is None else t.to(device)
        return out


def load_metadata(path: str) -> Dict[str, str]:
    return read_header(path)[1]
