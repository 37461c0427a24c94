"""Pretraining: a deterministic data stream, and a run that resumes from its checkpoint exactly."""
import json
import os

import pytest
import torch

from sealgate_gpu.evaluate import read_jsonl
from sealgate_gpu.model import LlamaForCausalLM
from sealgate_gpu.pretrain import DataStream, PretrainConfig, load_world, run
from sealgate_gpu.world.generate import SCALES, write
from sealgate_gpu.world.tokenizer import Tokenizer


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("world"))
    write(out, 7, SCALES["small"](), "small")
    return out


def tiny(**overrides) -> PretrainConfig:
    fields = dict(steps=4, batch_size=2, seq_len=256, chunk_steps=3, warmup_steps=1, hidden_size=32,
                  intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    fields.update(overrides)
    return PretrainConfig(**fields)


def stream(world_dir: str, cfg: PretrainConfig) -> DataStream:
    tok = Tokenizer.from_file(os.path.join(world_dir, "tokenizer.json"))
    return DataStream(load_world(world_dir), world_dir, tok, cfg)


def test_the_stream_is_a_function_of_the_chunk_and_resumes_mid_chunk(small_world):
    data = stream(small_world, tiny())
    full = list(data.batches(1))
    again = list(stream(small_world, tiny()).batches(1, skip=2))
    assert len(full) == 3 and len(again) == 1
    assert torch.equal(full[2][0], again[0][0]) and torch.equal(full[2][1], again[0][1])
    assert not torch.equal(full[0][0], list(data.batches(2))[0][0])


def test_packed_examples_are_whole_and_never_held_out(small_world):
    cfg = tiny()
    data = stream(small_world, cfg)
    tok = Tokenizer.from_file(os.path.join(small_world, "tokenizer.json"))
    text = " ".join(tok.decode(ids.flatten().tolist(), skip_special_tokens=False)
                    for chunk in range(3) for ids, _ in data.batches(chunk))
    assert text.count("<s>") == text.count("</s>")  # nothing cut at a sequence end
    heldout_words = {w for r in read_jsonl(os.path.join(small_world, "heldout.jsonl")) for w in r["name_words"]}
    assert not [w for w in heldout_words if f" {w} " in text or f" {w}'" in text or f" {w}." in text]


def test_an_interrupted_run_resumes_to_the_same_weights(small_world, tmp_path):
    whole = run(small_world, str(tmp_path / "a"), str(tmp_path / "a-out"), tiny(), eval_every=0,
                checkpoint_minutes=60)
    run(small_world, str(tmp_path / "b"), str(tmp_path / "b-out"), tiny(), eval_every=0, checkpoint_minutes=60,
        stop_at=2)
    assert not os.path.exists(tmp_path / "b-out")  # stopped early: nothing exported yet
    resumed = run(small_world, str(tmp_path / "b"), str(tmp_path / "b-out"), tiny(), eval_every=0,
                  checkpoint_minutes=60)
    assert whole["tokens"] == resumed["tokens"]
    a = LlamaForCausalLM.from_pretrained(str(tmp_path / "a-out")).state_dict()
    b = LlamaForCausalLM.from_pretrained(str(tmp_path / "b-out")).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "prompts.json", "training.json"):
        assert os.path.exists(tmp_path / "b-out" / name)
    assert json.load(open(tmp_path / "b-out" / "training.json"))["steps"] == 4


def test_a_checkpoint_of_another_configuration_is_refused(small_world, tmp_path):
    run(small_world, str(tmp_path / "w"), None, tiny(), eval_every=0, checkpoint_minutes=60, stop_at=1)
    with pytest.raises(SystemExit, match="another configuration"):
        run(small_world, str(tmp_path / "w"), None, tiny(lr=1e-4), eval_every=0, checkpoint_minutes=60)
