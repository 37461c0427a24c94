"""SEAL's machinery: grouped trials equal one-at-a-time training, self-edit parsing, sampling, and a reduced
knowledge-incorporation experiment on the shipped model."""
import json
import os
import subprocess
import sys

import pytest
import torch

from sealgate_gpu.lora import AdapterStack, LoraAdapter, LoraConfig
from sealgate_gpu.seal.grouped_lora import GroupedAdapters
from sealgate_gpu.seal.self_edits import self_edit_lines
from sealgate_gpu.training import TokenSequence, TrainParams, train_lora

from conftest import GPU_DIR, VOCAB, tiny_model

DEFAULT_MODEL = os.path.join(GPU_DIR, "..", "models", "default")


def random_sequences(gen, n):
    out = []
    for _ in range(n):
        length = int(torch.randint(4, 12, (1,), generator=gen))
        ids = [1] + torch.randint(4, VOCAB, (length,), generator=gen).tolist() + [2]
        out.append(TokenSequence(ids, [0] + [1] * (len(ids) - 1)))
    return out


def test_grouped_training_equals_training_each_adapter_alone():
    gen = torch.Generator().manual_seed(3)
    sets = [random_sequences(gen, n) for n in (3, 11, 6)]  # different numbers of mini-batches per adapter
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"])
    params = TrainParams(lora=config, lr=3e-3, epochs=4, batch_size=4, seed=0)
    model = tiny_model(0)
    stack = AdapterStack(model)
    alone = [train_lora(model, stack, s, TrainParams(**{**params.__dict__, "seed": 10 + i})) for i, s in enumerate(sets)]
    with GroupedAdapters(stack, config, [10, 11, 12]) as grouped:
        together = grouped.train(model, sets, params)
    for a, b in zip(alone, together):
        assert a.steps == b.steps
        assert b.loss_curve == pytest.approx(a.loss_curve, rel=1e-4)
        for path, (wa, wb) in a.adapter.weights.items():
            assert torch.allclose(wa, b.adapter.weights[path][0], atol=1e-4)
            assert torch.allclose(wb, b.adapter.weights[path][1], atol=1e-4)
    # Detached: the model is as it was.
    assert all(layer.group_delta is None for layer in stack.layers.values())


def test_grouped_answer_loss_equals_each_adapter_alone():
    gen = torch.Generator().manual_seed(4)
    train_sets = [random_sequences(gen, n) for n in (5, 3)]
    probes = [random_sequences(gen, n) for n in (2, 4)]  # different numbers of rows per group
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    params = TrainParams(lora=config, lr=1e-2, epochs=3, batch_size=2, seed=0)
    model = tiny_model(0)
    stack = AdapterStack(model)
    with GroupedAdapters(stack, config, [1, 2]) as grouped:
        trained = grouped.train(model, train_sets, params)
        together = grouped.sequence_nll(model, probes)
    for result, rows, got in zip(trained, probes, together):
        stack.set([("alone", result.adapter)])
        total = count = 0.0
        with torch.no_grad():
            for row in rows:
                ids = torch.tensor([row.input_ids])
                nll = torch.nn.functional.cross_entropy(model(ids).logits[0, :-1], ids[0, 1:], reduction="none")
                mask = torch.tensor(row.loss_mask[1:], dtype=torch.float32)
                total += float((nll * mask).sum())
                count += float(mask.sum())
        stack.clear()
        assert got == pytest.approx(total / count, rel=1e-4)


def test_each_group_sees_only_its_own_frozen_adapters():
    model = tiny_model(0)
    stack = AdapterStack(model)
    gen = torch.Generator().manual_seed(5)
    config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "up_proj"])
    frozen = LoraAdapter(config, {
        path: (torch.randn(2, layer.in_features, generator=gen), torch.randn(layer.out_features, 2, generator=gen))
        for path, layer in stack.layers.items() if path.rsplit(".", 1)[-1] in config.target_modules
    })
    ids = torch.randint(4, VOCAB, (1, 9), generator=gen)
    with torch.no_grad():
        plain = model(ids).logits
        stack.set([("f", frozen)])
        stacked = model(ids).logits
        stack.clear()
        with GroupedAdapters(stack, config, [0, 1], frozen=[[frozen], []]) as grouped:
            for g in grouped.groups.values():
                g.b.zero_()  # fresh adapters add nothing
            both = model(torch.cat([ids, ids])).logits
    assert torch.allclose(both[0], stacked[0], atol=1e-5)
    assert torch.allclose(both[1], plain[0], atol=1e-5)
    assert not torch.allclose(stacked, plain, atol=1e-3)


def test_self_qa_answers_train_with_their_questions():
    text = " Who runs Mopos?\nAnswer: Haigo\nQuestion 2: When was Mopos founded?\nAnswer: 1617\n"
    assert self_edit_lines("self-qa", text) == [
        "Question: Who runs Mopos?\nAnswer: Haigo",
        "Question: When was Mopos founded?\nAnswer: 1617",
    ]
    assert self_edit_lines("implications", "A.\n\n B. \n") == ["A.", "B."]


@pytest.mark.skipif(not os.path.isfile(os.path.join(DEFAULT_MODEL, "model.safetensors")), reason="no default model")
def test_reduced_knowledge_experiment_self_edits_beat_passage_only(tmp_path):
    """Experiment 1 on 10 held-out passages, with one short ReST-EM round; run twice, the second resumes."""
    cmd = [sys.executable, "-m", "sealgate_gpu.seal.knowledge", "--model", DEFAULT_MODEL, "--passages", "10",
           "--samples", "2", "--rounds", "1", "--train-passages", "6", "--k", "2", "--work", str(tmp_path), "--json"]
    env = {**os.environ, "SEALGATE_DEVICE": "cpu"}
    first = subprocess.run(cmd, cwd=GPU_DIR, env=env, capture_output=True, text=True, timeout=1200)
    assert first.returncode == 0, first.stderr[-2000:]
    result = json.loads(first.stdout.strip().splitlines()[-1])
    c = result["conditions"]
    assert c["base"]["mean"] < 0.2  # the passages are new to the model
    assert c["passage"]["mean"] > c["base"]["mean"]
    assert c["selfEdit"]["mean"] > c["passage"]["mean"]
    assert set(c) >= {"base", "passage", "selfEdit", "rewrite", "selfQa", "seal1"}
    assert result["restEm"][0]["kept"] >= 1
    again = subprocess.run(cmd, cwd=GPU_DIR, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout.strip().splitlines()[-1])["conditions"] == c
