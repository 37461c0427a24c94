import json
import os
import queue
import subprocess
import sys
import threading

import torch

from sealgate_gpu.lora import AdapterStack, LoraAdapter
from sealgate_gpu.training import TokenSequence, sequence_losses
from sealgate_gpu.model import LlamaForCausalLM
from conftest import GPU_DIR, VOCAB
from test_lora import random_adapter


class Client:
    def __init__(self) -> None:
        env = dict(os.environ, SEALGATE_DEVICE="cpu", PYTHONPATH=GPU_DIR)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sealgate_gpu.trainer_server", "--threads", "1"],
            cwd=GPU_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1,
        )
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.stderr: list = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True).start()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line)

    def send(self, obj) -> None:
        self.proc.stdin.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        self.proc.stdin.flush()

    def next(self, timeout: float = 60.0) -> dict:
        line = self.lines.get(timeout=timeout)
        return json.loads(line)  # every stdout line must be a protocol line

    def until_terminal(self, req_id) -> list:
        events = []
        while True:
            ev = self.next()
            assert ev["id"] == req_id, ev
            events.append(ev)
            if ev["event"] in ("done", "error"):
                return events


def train_request(req_id, base_dir, out_dir, **kw):
    g = torch.Generator().manual_seed(0)
    seqs = []
    for n in (9, 12, 7):
        toks = torch.randint(3, VOCAB, (n,), generator=g).tolist()
        seqs.append({"input_ids": toks, "loss_mask": [0] * 3 + [1] * (n - 3)})
    req = {"id": req_id, "type": "train", "base_model": base_dir, "adapters": [], "sequences": seqs,
           "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["q_proj", "v_proj"]},
           "lr": 1e-2, "epochs": 10, "batch_size": 2, "seed": 3, "output_dir": out_dir}
    req.update(kw)
    return req


def test_trainer_server_end_to_end(tmp_path, base_dir):
    stack_dir = str(tmp_path / "stack0")
    random_adapter(LlamaForCausalLM.from_pretrained(base_dir), 1).save(stack_dir)
    c = Client()
    try:
        c.send({"id": "h", "type": "hello"})
        hello = c.next()
        assert hello["event"] == "done" and hello["device"] == "cpu" and hello["threads"] == 1
        assert hello["torch"] == torch.__version__ and hello["protocol"] == 1

        # bad requests are answered and the process lives on
        c.send("{not json")
        assert c.next()["code"] == "BAD_REQUEST"
        c.send({"id": 1, "type": "dance"})
        err = c.next()
        assert (err["id"], err["event"], err["code"]) == (1, "error", "BAD_REQUEST") and "dance" in err["message"]
        c.send({"id": 2, "type": "train", "base_model": str(tmp_path / "nope"), "output_dir": "x"})
        err = c.next()
        assert err["id"] == 2 and err["event"] == "error" and err["code"] == "NOT_FOUND"
        bad = train_request(3, base_dir, str(tmp_path / "o3"))
        bad["sequences"][0]["loss_mask"] = [1]
        c.send(bad)
        err = c.next()
        assert err["code"] == "BAD_REQUEST" and "loss_mask" in err["message"]
        c.send(train_request(4, base_dir, str(tmp_path / "o4"), adapters=[str(tmp_path)]))
        assert c.next()["code"] == "NOT_FOUND"  # a folder with no adapter files

        out_dir = str(tmp_path / "out")
        c.send(train_request("t1", base_dir, out_dir, adapters=[stack_dir]))
        events = c.until_terminal("t1")
        progress, done = events[:-1], events[-1]
        assert done["event"] == "done", done
        assert [p["step"] for p in progress] == list(range(1, 21)) and progress[0]["total"] == 20
        assert all(p["event"] == "progress" and isinstance(p["loss"], float) for p in progress)
        assert done["adapter_dir"] == os.path.abspath(out_dir) and done["device"] == "cpu"
        assert len(done["loss_curve"]) == 20 and done["loss_curve"][-1] < done["loss_curve"][0]
        assert done["tokens"] == 10 * 28 and done["seconds"] > 0

        # a second run with the same seed gives the same curve (model cached, stack rebuilt)
        c.send(train_request("t2", base_dir, str(tmp_path / "out2"), adapters=[stack_dir]))
        assert c.until_terminal("t2")[-1]["loss_curve"] == done["loss_curve"]
        # an existing adapter folder is not overwritten unless asked
        c.send(train_request("t3", base_dir, out_dir, adapters=[stack_dir]))
        assert c.next()["code"] == "BAD_REQUEST"

        # a long training, cancelled
        c.send(train_request("long", base_dir, str(tmp_path / "long"), epochs=100000))
        c.send({"id": "c", "type": "cancel", "target": "long"})
        seen = {}
        while "long" not in seen or "c" not in seen:
            ev = c.next()
            if ev["event"] != "progress":
                seen[ev["id"]] = ev
        assert seen["long"]["code"] == "CANCELLED" and seen["c"]["event"] == "done"

        c.send({"id": "bye", "type": "shutdown"})
        assert c.next() == {"id": "bye", "event": "done", "type": "shutdown"}
        assert c.proc.wait(timeout=30) == 0
    finally:
        if c.proc.poll() is None:
            c.proc.kill()
    assert any("trainer ready" in line for line in c.stderr)

    # the adapter folder is a PEFT folder that, on top of the same stack, lowers the loss
    adapter = LoraAdapter.load(out_dir)
    assert adapter.config.r == 4 and adapter.config.base_model_name_or_path == base_dir
    model = LlamaForCausalLM.from_pretrained(base_dir)
    model.set_attention_implementation("eager")
    stack = AdapterStack(model)
    stack.push(LoraAdapter.load(stack_dir), "s")
    seqs = [TokenSequence(s["input_ids"], s["loss_mask"])
            for s in train_request("x", base_dir, "")["sequences"]]
    before = sum(sequence_losses(model, seqs))
    stack.push(adapter, "new")
    assert sum(sequence_losses(model, seqs)) < before
