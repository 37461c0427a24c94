import json
import os

import pytest
import torch

from sealgate_gpu.lora import (
    AdapterError,
    AdapterStack,
    LoraAdapter,
    LoraConfig,
    load_adapters,
)
from sealgate_gpu.safetensors_io import load_file, read_header, save_file
from conftest import VOCAB, tiny_model

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def random_adapter(model, seed: int, r: int = 4, alpha: float = 8.0, targets=("q_proj", "v_proj")) -> LoraAdapter:
    """An adapter with non-zero A and B (as after training)."""
    g = torch.Generator().manual_seed(seed)
    weights = {}
    for path, m in model.named_modules():
        if path.rsplit(".", 1)[-1] in targets:
            out_f, in_f = m.weight.shape
            weights[path] = (torch.randn(r, in_f, generator=g) * 0.2, torch.randn(out_f, r, generator=g) * 0.2)
    return LoraAdapter(LoraConfig(r=r, lora_alpha=alpha, target_modules=list(targets)), weights)


def ids(n=2, t=10, seed=0):
    return torch.randint(0, VOCAB, (n, t), generator=torch.Generator().manual_seed(seed))


def test_peft_folder_round_trip(tmp_path):
    model = tiny_model()
    adapter = random_adapter(model, 1, targets=ALL)
    adapter.config.base_model_name_or_path = "/models/tiny"
    folder = str(tmp_path / "a")
    adapter.save(folder)
    cfg = json.load(open(os.path.join(folder, "adapter_config.json")))
    assert cfg["peft_type"] == "LORA" and cfg["task_type"] == "CAUSAL_LM" and cfg["bias"] == "none"
    assert cfg["r"] == 4 and cfg["lora_alpha"] == 8.0 and cfg["lora_dropout"] == 0.0
    assert cfg["target_modules"] == ALL and cfg["base_model_name_or_path"] == "/models/tiny"
    assert cfg["inference_mode"] is True
    header, meta = read_header(os.path.join(folder, "adapter_model.safetensors"))
    assert meta["format"] == "pt"
    assert len(header) == 2 * 7 * 2
    assert header["base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight"]["shape"] == [4, 64]
    assert header["base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight"]["shape"] == [64, 4]
    assert header["base_model.model.model.layers.0.self_attn.k_proj.lora_B.weight"]["shape"] == [32, 4]
    assert header["base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"]["shape"] == [4, 128]
    back = LoraAdapter.load(folder)
    assert back.config.to_peft_dict() == adapter.config.to_peft_dict()
    assert set(back.weights) == set(adapter.weights)
    for k, (a, b) in adapter.weights.items():
        assert torch.equal(back.weights[k][0], a) and torch.equal(back.weights[k][1], b)


def test_invalid_adapters_are_rejected(tmp_path):
    model = tiny_model()
    stack = AdapterStack(model)
    folder = str(tmp_path / "a")
    random_adapter(model, 1).save(folder)
    path = os.path.join(folder, "adapter_model.safetensors")
    tensors = load_file(path)
    bad = dict(tensors)
    bad["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = torch.full((4, 64), float("nan"))
    save_file(bad, path)
    with pytest.raises(AdapterError, match="non-finite"):
        LoraAdapter.load(folder)
    bad = dict(tensors)
    bad["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = torch.zeros(4, 65)
    save_file(bad, path)
    with pytest.raises(AdapterError, match="do not fit"):
        stack.push(LoraAdapter.load(folder))
    bad = {k.replace("base_model.model.", ""): v for k, v in tensors.items()}
    save_file(bad, path)
    with pytest.raises(AdapterError, match="PEFT"):
        LoraAdapter.load(folder)
    with pytest.raises(FileNotFoundError):
        LoraAdapter.load(str(tmp_path / "missing"))
    with pytest.raises(AdapterError):
        LoraConfig(r=0)
    with pytest.raises(AdapterError):
        LoraConfig(target_modules=["embed_tokens"])


def test_stack_add_remove_is_exact():
    model = tiny_model()
    stack = AdapterStack(model)
    x = ids()
    with torch.no_grad():
        base = model(x).logits
        a1, a2, a3 = (random_adapter(model, s, targets=ALL if s == 2 else ("q_proj", "v_proj")) for s in (1, 2, 3))
        stack.push(a1, "a1")
        only_a1 = model(x).logits
        assert not torch.allclose(only_a1, base)
        stack.push(a2, "a2")
        both = model(x).logits
        assert not torch.allclose(both, only_a1)
        stack.remove("a2")
        assert torch.equal(model(x).logits, only_a1)
        # removing from the middle equals a stack that never held it
        stack.push(a2, "a2")
        stack.push(a3, "a3")
        stack.remove("a2")
        after_remove = model(x).logits
        stack.set([("a1", a1), ("a3", a3)])
        assert torch.equal(model(x).logits, after_remove)
        assert stack.names == ["a1", "a3"]
        stack.clear()
        assert torch.equal(model(x).logits, base)
    with pytest.raises(KeyError):
        stack.remove("nope")


def merged_model(adapters):
    """Base model with every adapter merged into the weights: W + sum_i s_i B_i A_i."""
    model = tiny_model()
    mods = dict(model.named_modules())
    with torch.no_grad():
        for ad in adapters:
            for path, (a, b) in ad.weights.items():
                mods[path].weight += ad.config.scaling(path, a.shape[0]) * (b @ a)
    return model


def test_rank_concatenation_equals_sum_of_adapters():
    model = tiny_model()
    stack = AdapterStack(model)
    a1 = random_adapter(model, 1, r=4, alpha=8.0, targets=ALL)
    a2 = random_adapter(model, 2, r=2, alpha=16.0, targets=("q_proj", "k_proj", "up_proj"))
    stack.set([("a1", a1), ("a2", a2)])
    layer = stack.layers["model.layers.0.self_attn.q_proj"]
    assert layer.stack_rank() == 6
    assert stack.layers["model.layers.0.mlp.down_proj"].stack_rank() == 4
    x = ids(seed=5)
    with torch.no_grad():
        assert torch.allclose(model(x).logits, merged_model([a1, a2])(x).logits, atol=1e-5)
        # and per layer, against separate adapters applied one by one
        h = torch.randn(3, 64)
        sep = sum(ad.config.scaling("", ad.weights["model.layers.0.self_attn.q_proj"][0].shape[0])
                  * h @ ad.weights["model.layers.0.self_attn.q_proj"][0].T
                  @ ad.weights["model.layers.0.self_attn.q_proj"][1].T for ad in (a1, a2))
        assert torch.allclose(layer(h) - h @ layer.weight.T, sep, atol=1e-5)


def test_stack_survives_a_folder_round_trip(tmp_path):
    model = tiny_model()
    a1, a2 = random_adapter(model, 1), random_adapter(model, 2, targets=ALL)
    a1.save(str(tmp_path / "a1"))
    a2.save(str(tmp_path / "a2"))
    stack = AdapterStack(model)
    stack.set([("a1", a1), ("a2", a2)])
    x = ids()
    with torch.no_grad():
        direct = model(x).logits
        stack.set(load_adapters([str(tmp_path / "a1"), str(tmp_path / "a2")]))
        assert torch.equal(model(x).logits, direct)


def test_fresh_trainable_adapter_changes_nothing_and_stays_out_of_the_base():
    model = tiny_model()
    stack = AdapterStack(model)
    stack.push(random_adapter(model, 1), "a1")
    x = ids()
    with torch.no_grad():
        before = model(x).logits
    params = stack.add_trainable(LoraConfig(r=4, lora_alpha=8, target_modules=ALL))
    assert len(params) == 2 * 7 * 2 and all(p.requires_grad for p in params)
    with torch.no_grad():
        assert torch.equal(model(x).logits, before)  # B starts at zero
    assert not any(".lora_" in k for k in model.base_state_dict())
    adapter = stack.trainable_adapter()
    assert adapter.weights["model.layers.0.self_attn.q_proj"][0].shape == (4, 64)
    stack.drop_trainable()
    assert all(layer.lora_A is None for layer in stack.layers.values())


def test_reads_a_config_as_peft_writes_it(tmp_path):
    peft_cfg = {  # adapter_config.json as written by PEFT 0.13 (get_peft_model + save_pretrained)
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "meta-llama/Llama-3.2-1B",
        "bias": "none", "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True,
        "layer_replication": None, "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
        "lora_alpha": 64, "lora_dropout": 0.05, "megatron_config": None, "megatron_core": "megatron.core",
        "modules_to_save": None, "peft_type": "LORA", "r": 32, "rank_pattern": {}, "revision": None,
        "target_modules": ["v_proj", "q_proj"], "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False,
    }
    model = tiny_model()
    folder = tmp_path / "peft"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps(peft_cfg))
    g = torch.Generator().manual_seed(0)
    save_file({
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": torch.randn(32, 64, generator=g),
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": torch.randn(64, 32, generator=g),
    }, str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    adapter = LoraAdapter.load(str(folder))
    assert adapter.config.scaling("x", 32) == 2.0 and adapter.config.lora_dropout == 0.05
    AdapterStack(model).push(adapter)
    adapter.save(str(tmp_path / "again"))
    again = json.load(open(tmp_path / "again" / "adapter_config.json"))
    assert again["megatron_core"] == "megatron.core" and again["r"] == 32
