"""What the SEAL experiments share: loading the model and its world, the inner update they use, confidence
intervals, progress lines and checkpoint files that let a stopped run resume."""
from __future__ import annotations

import json
import math
import os
import sys
import time
from typing import Any, Dict, Optional, Sequence

from ..device import configure_threads, device_info, select_device
from ..evaluate import read_jsonl
from ..lora import AdapterStack, LoraConfig
from ..model import LlamaForCausalLM
from ..training import TrainParams
from ..world.tokenizer import Tokenizer
from .self_edits import Passage

# SEAL's inner update for knowledge incorporation: LoRA r 32, alpha 64
# on q and v, lr 1e-3, 10 epochs; one sequence per optimizer step, so every self-edit line is a step of its own.
SEAL_INNER_UPDATE = TrainParams(
    lora=LoraConfig(r=32, lora_alpha=64.0, target_modules=["q_proj", "v_proj"]),
    lr=1e-3, epochs=10, batch_size=1, seed=0,
)


def inner_update_summary(p: TrainParams) -> Dict[str, Any]:
    return {
        "rank": p.lora.r, "alpha": p.lora.lora_alpha, "targetModules": list(p.lora.target_modules),
        "learningRate": p.lr, "epochs": p.epochs, "batchSize": p.batch_size,
    }


class Setup:
    """The model (on the chosen device), its adapter stack, tokenizer and world."""

    def __init__(self, model_dir: str, device: Optional[str] = None) -> None:
        self.device = select_device(device)
        # One thread unless SEALGATE_TORCH_THREADS says otherwise: the trials' operations are small, and on a
        # shared machine two threads spin-waiting on each other ran them 8x slower than one (docs/results.md).
        configure_threads(None if os.environ.get("SEALGATE_TORCH_THREADS") or self.device.type != "cpu" else 1)
        self.model_dir = model_dir
        self.model = LlamaForCausalLM.from_pretrained(model_dir, device=self.device).eval()
        self.stack = AdapterStack(self.model)
        self.tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        heldout = read_jsonl(os.path.join(model_dir, "world", "heldout.jsonl"))
        self.eval_passages = [Passage.from_record(r) for r in heldout if r["split"] == "eval"]
        self.train_passages = [Passage.from_record(r) for r in heldout if r["split"] == "train"]
        self.device_info = device_info(self.device)


def mean_ci95(values: Sequence[float], low: float = 0.0, high: float = 1.0) -> Dict[str, Any]:
    """Mean and a normal-approximation 95% interval of the mean (1.96 standard errors) over passages."""
    n = len(values)
    if n == 0:
        return {"mean": 0.0, "ci95": [0.0, 0.0], "n": 0}
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    half = 1.96 * sd / math.sqrt(n)
    return {"mean": mean, "ci95": [max(low, mean - half), min(high, mean + half)], "n": n}


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Dict[str, Any]:
    """Mean and 95% interval of a - b passage by passage: two conditions on the same passages differ by less
    noise than their two separate intervals suggest."""
    return mean_ci95([x - y for x, y in zip(a, b)], low=-1.0, high=1.0)


class Progress:
    """One line per update on stderr: `[name] stage: done/total (seconds)`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.t0 = time.perf_counter()

    def __call__(self, stage: str, done: int = 0, total: int = 0) -> None:
        frac = f" {done}/{total}" if total else ""
        print(f"[{self.name}] {stage}:{frac} ({time.perf_counter() - self.t0:.0f} s)", file=sys.stderr, flush=True)


class Checkpoint:
    """A JSON file of finished steps: a rerun with the same settings skips them (a stopped run resumes)."""

    def __init__(self, folder: str, settings: Dict[str, Any]) -> None:
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.path = os.path.join(folder, "checkpoint.json")
        self.data: Dict[str, Any] = {"settings": settings, "steps": {}}
        if os.path.isfile(self.path):
            with open(self.path, encoding="utf-8") as f:
                saved = json.load(f)
            if saved.get("settings") == settings:
                self.data = saved

    def get(self, key: str) -> Any:
        return self.data["steps"].get(key)

    def put(self, key: str, value: Any) -> Any:
        self.data["steps"][key] = value
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f)
        os.replace(tmp, self.path)
        return value


def write_json(path: str, obj: Any) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
