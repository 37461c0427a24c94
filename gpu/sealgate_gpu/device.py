"""Choosing the device and the CPU thread count, once, at process start."""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

import torch


def cpu_threads() -> int:
    """Threads to use: SEALGATE_TORCH_THREADS if set, else the CPUs this process may run on."""
    env = os.environ.get("SEALGATE_TORCH_THREADS")
    if env:
        return max(1, int(env))
    n = os.cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        n = min(n, len(os.sched_getaffinity(0)))
    return max(1, n)


def configure_threads(n: Optional[int] = None) -> int:
    n = n or cpu_threads()
    torch.set_num_threads(n)
    try:
        torch.set_num_interop_threads(max(1, min(n, 2)))
    except RuntimeError:
        pass  # already set, or parallel work already started
    return torch.get_num_threads()


def select_device(preference: Optional[str] = None) -> torch.device:
    """'auto' (CUDA when available, else CPU), 'cpu', 'cuda' or 'cuda:N'; default from SEALGATE_DEVICE."""
    pref = (preference or os.environ.get("SEALGATE_DEVICE") or "auto").strip().lower()
    if pref == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(pref)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {pref!r} requested but CUDA is not available")
    return dev


def default_dtype(device: torch.device, config_dtype: Optional[str]) -> torch.dtype:
    """float32 on CPU; on CUDA the checkpoint's own dtype (bf16 falls back to fp16 where unsupported)."""
    if device.type != "cuda":
        return torch.float32
    name = (config_dtype or "float32").replace("torch.", "")
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(name, torch.float32)
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        return torch.float16
    return dtype


def device_info(device: torch.device) -> Dict[str, Any]:
    info: Dict[str, Any] = {
        "device": str(device),
        "device_name": "cpu",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
    }
    if device.type == "cuda":
        idx = device.index if device.index is not None else torch.cuda.current_device()
        info["device_name"] = torch.cuda.get_device_name(idx)
        info["cuda_memory_bytes"] = torch.cuda.get_device_properties(idx).total_memory
    return info
