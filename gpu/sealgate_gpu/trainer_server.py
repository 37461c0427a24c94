"""The long-lived LoRA trainer: JSON lines on stdin, JSON lines on stdout, logs on stderr.

Run from gpu/: python3 -m sealgate_gpu.trainer_server [--device auto|cpu|cuda] [--threads N]
The protocol is described in gpu/README.md.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import sys
import threading
import time
import traceback
from typing import Any, Dict, Optional, Set, TextIO, Tuple

import torch

from .config import ConfigError, LlamaConfig
from .device import configure_threads, default_dtype, device_info, select_device
from .lora import ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME, AdapterError, AdapterStack, load_adapters
from .model import LlamaForCausalLM, ModelLoadError, weight_files
from .protocol import PROTOCOL_VERSION, REQUEST_TYPES, ProtocolError, bad, parse_train
from .safetensors_io import SafetensorsError
from .training import Cancelled, Diverged, train_lora

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
log = logging.getLogger("sealgate_gpu.trainer")


class ModelCache:
    """The last base model loaded, reused while its folder, files and dtype are unchanged."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.key: Optional[Tuple[Any, ...]] = None
        self.entry: Optional[Tuple[LlamaForCausalLM, AdapterStack]] = None

    @staticmethod
    def _signature(folder: str) -> Tuple[Any, ...]:
        files = [os.path.join(folder, "config.json")] + weight_files(folder)
        return tuple((f, os.stat(f).st_mtime_ns, os.stat(f).st_size) for f in files)

    def get(self, folder: str, dtype: torch.dtype) -> Tuple[LlamaForCausalLM, AdapterStack]:
        key = (os.path.realpath(folder), str(dtype), self._signature(folder))
        if self.entry is None or key != self.key:
            self.entry = None  # free the previous model before loading the next
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            t0 = time.perf_counter()
            model = LlamaForCausalLM.from_pretrained(folder, device=self.device, dtype=dtype)
            model.eval()
            stack = AdapterStack(model)
            self.entry, self.key = (model, stack), key
            log.info("loaded %s (%s) in %.2fs", folder, dtype, time.perf_counter() - t0)
        return self.entry


class TrainerServer:
    def __init__(self, inp: TextIO, out: TextIO, device: torch.device) -> None:
        self.inp = inp
        self.out = out
        self.device = device
        self.cache = ModelCache(device)
        self._out_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._queue: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self._cancelled: Set[Any] = set()

    # ----- output ------------------------------------------------------------------------------------------
    def send(self, obj: Dict[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":"), allow_nan=False)
        with self._out_lock:
            self.out.write(line + "\n")
            self.out.flush()

    def error(self, req_id: Any, code: str, message: str) -> None:
        self.send({"id": req_id, "event": "error", "code": code, "message": message})

    # ----- input -------------------------------------------------------------------------------------------
    def _reader(self) -> None:
        for line in self.inp:
            line = line.strip()
            if not line:
                continue
            try:
                req = json.loads(line)
            except json.JSONDecodeError as e:
                self.error(None, "BAD_REQUEST", f"invalid JSON: {e}")
                continue
            if not isinstance(req, dict):
                self.error(None, "BAD_REQUEST", "a request must be a JSON object")
                continue
            if req.get("type") == "cancel":  # answered at once, even while a training runs
                self._handle_cancel(req)
                continue
            self._queue.put(req)
        self._queue.put(None)

    def _handle_cancel(self, req: Dict[str, Any]) -> None:
        req_id = req.get("id")
        target = req.get("target")
        if not isinstance(target, (str, int)) or isinstance(target, bool):
            self.error(req_id, "BAD_REQUEST", "'target' (the id of the request to cancel) must be a string or integer")
            return
        with self._state_lock:
            self._cancelled.add(req["target"])
        self.send({"id": req_id, "event": "done", "type": "cancel", "target": req["target"]})

    def _is_cancelled(self, req_id: Any) -> bool:
        with self._state_lock:
            return req_id in self._cancelled

    # ----- dispatch ----------------------------------------------------------------------------------------
    def serve(self) -> int:
        threading.Thread(target=self._reader, name="stdin-reader", daemon=True).start()
        while True:
            req = self._queue.get()
            if req is None:
                log.info("stdin closed; exiting")
                return 0
            if self.handle(req):
                return 0

    def handle(self, req: Dict[str, Any]) -> bool:
        """Answer one request; True when the server should exit."""
        req_id = req.get("id")
        kind = req.get("type")
        try:
            if req_id is None or not isinstance(req_id, (str, int)) or isinstance(req_id, bool):
                raise bad("'id' (a string or integer) is required")
            if kind not in REQUEST_TYPES:
                raise bad(f"unknown type {kind!r}; expected one of {list(REQUEST_TYPES)}")
            if self._is_cancelled(req_id):
                raise Cancelled()
            if kind == "hello":
                self.send({"id": req_id, "event": "done", "type": "hello", "protocol": PROTOCOL_VERSION,
                           "pid": os.getpid(), **device_info(self.device)})
            elif kind == "shutdown":
                self.send({"id": req_id, "event": "done", "type": "shutdown"})
                return True
            elif kind == "train":
                self._train(req_id, req)
        except ProtocolError as e:
            self.error(req_id, e.code, e.message)
        except Cancelled:
            self.error(req_id, "CANCELLED", "cancelled by request")
        except Diverged as e:
            self.error(req_id, "DIVERGED", str(e))
        except FileNotFoundError as e:
            self.error(req_id, "NOT_FOUND", str(e))
        except (ConfigError, ModelLoadError, SafetensorsError) as e:
            self.error(req_id, "BAD_MODEL", str(e))
        except AdapterError as e:
            self.error(req_id, "BAD_ADAPTER", str(e))
        except RuntimeError as e:
            if "out of memory" in str(e).lower():
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                self.error(req_id, "OUT_OF_MEMORY", str(e).splitlines()[0])
            else:
                log.error("request %s failed:\n%s", req_id, traceback.format_exc())
                self.error(req_id, "INTERNAL", f"{type(e).__name__}: {e}")
        except Exception as e:  # a bad request must never kill the process
            log.error("request %s failed:\n%s", req_id, traceback.format_exc())
            self.error(req_id, "INTERNAL", f"{type(e).__name__}: {e}")
        finally:
            with self._state_lock:
                self._cancelled.discard(req_id)
        return False

    def _train(self, req_id: Any, req: Dict[str, Any]) -> None:
        base = req.get("base_model")
        if not isinstance(base, str):
            raise bad("'base_model' (a folder path) is required")
        if not os.path.isdir(base):
            raise ProtocolError("NOT_FOUND", f"base_model folder not found: {base}")
        config = LlamaConfig.from_pretrained(base)
        tr = parse_train(req, vocab_size=config.vocab_size)
        existing = [n for n in (ADAPTER_CONFIG_NAME, ADAPTER_WEIGHTS_NAME)
                    if os.path.exists(os.path.join(tr.output_dir, n))]
        if existing and not tr.overwrite:
            raise bad(f"output_dir already holds an adapter ({existing[0]}); pass overwrite: true to replace it")
        dtype = DTYPES[tr.dtype] if tr.dtype else default_dtype(self.device, config.torch_dtype)
        model, stack = self.cache.get(tr.base_model, dtype)
        adapters = load_adapters(tr.adapters)
        stack.set(adapters)
        log.info("train %s: %d sequences, stack of %d, r=%d, %d epochs", req_id, len(tr.sequences),
                 len(adapters), tr.params.lora.r, tr.params.epochs)
        try:
            result = train_lora(
                model, stack, tr.sequences, tr.params,
                on_step=lambda step, total, loss: self.send(
                    {"id": req_id, "event": "progress", "step": step, "total": total, "loss": loss}),
                should_stop=lambda: self._is_cancelled(req_id),
            )
        finally:
            stack.clear()
        result.adapter.save(tr.output_dir)
        self.send({
            "id": req_id,
            "event": "done",
            "type": "train",
            "adapter_dir": os.path.abspath(tr.output_dir),
            "loss_curve": result.loss_curve,
            "steps": result.steps,
            "device": str(self.device),
            "dtype": str(dtype).replace("torch.", ""),
            "seconds": round(result.seconds, 4),
            "tokens": result.tokens,
            "loss_tokens": result.loss_tokens,
            "tokens_per_second": round(result.tokens / result.seconds, 1) if result.seconds > 0 else None,
        })


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m sealgate_gpu.trainer_server")
    parser.add_argument("--device", default=None, help="auto (default), cpu, cuda or cuda:N")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all CPUs)")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("SEALGATE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    protocol_out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by accident goes to stderr, never into the protocol
    threads = configure_threads(args.threads)
    device = select_device(args.device)
    log.info("trainer ready: device=%s torch=%s threads=%d", device, torch.__version__, threads)
    return TrainerServer(sys.stdin, protocol_out, device).serve()


if __name__ == "__main__":
    sys.exit(main())
