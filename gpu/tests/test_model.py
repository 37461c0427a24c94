import json
import math
import os

import pytest
import torch

from sealgate_gpu.config import ConfigError, LlamaConfig
from sealgate_gpu.model import (
    HAS_SDPA,
    LlamaForCausalLM,
    ModelLoadError,
    greedy_generate,
    rope_inv_freq,
)
from sealgate_gpu.safetensors_io import load_file, read_header, save_file
from conftest import VOCAB, tiny_config, tiny_model

LLAMA_FIELDS = {
    "architectures", "model_type", "hidden_size", "intermediate_size", "num_hidden_layers",
    "num_attention_heads", "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta",
    "vocab_size", "tie_word_embeddings", "bos_token_id", "eos_token_id", "pad_token_id", "hidden_act",
    "torch_dtype",
}


def hf_names(layers: int, tied: bool):
    names = {"model.embed_tokens.weight", "model.norm.weight"}
    if not tied:
        names.add("lm_head.weight")
    for i in range(layers):
        p = f"model.layers.{i}."
        names |= {p + "input_layernorm.weight", p + "post_attention_layernorm.weight"}
        names |= {f"{p}self_attn.{m}.weight" for m in ("q_proj", "k_proj", "v_proj", "o_proj")}
        names |= {f"{p}mlp.{m}.weight" for m in ("gate_proj", "up_proj", "down_proj")}
    return names


def reference_logits(model: LlamaForCausalLM, ids: torch.Tensor) -> torch.Tensor:
    """transformers' LlamaForCausalLM math, written out per head and position, in float64."""
    c = model.config
    w = {k: v.double() for k, v in model.state_dict().items()}
    if c.tie_word_embeddings:
        w["lm_head.weight"] = w["model.embed_tokens.weight"]
    H, KV, hd = c.num_attention_heads, c.n_kv_heads, c.dim_head
    T = ids.shape[0]

    def rms(x, weight):
        return weight * x / torch.sqrt((x * x).mean(-1, keepdim=True) + c.rms_norm_eps)

    def rope(x):  # x [T, heads, hd]; rotate_half convention: pairs (j, j + hd/2)
        half = hd // 2
        out = torch.empty_like(x)
        for t in range(T):
            for j in range(half):
                ang = t * c.rope_theta ** (-2.0 * j / hd)
                a, b = x[t, :, j], x[t, :, j + half]
                out[t, :, j] = a * math.cos(ang) - b * math.sin(ang)
                out[t, :, j + half] = b * math.cos(ang) + a * math.sin(ang)
        return out

    x = w["model.embed_tokens.weight"][ids]
    for layer in range(c.num_hidden_layers):
        p = f"model.layers.{layer}."
        h = rms(x, w[p + "input_layernorm.weight"])
        q = rope((h @ w[p + "self_attn.q_proj.weight"].T).view(T, H, hd))
        k = rope((h @ w[p + "self_attn.k_proj.weight"].T).view(T, KV, hd))
        v = (h @ w[p + "self_attn.v_proj.weight"].T).view(T, KV, hd)
        att = torch.zeros(T, H, hd, dtype=torch.float64)
        for head in range(H):
            kvh = head // (H // KV)
            for t in range(T):
                s = (k[: t + 1, kvh] @ q[t, head]) / math.sqrt(hd)
                att[t, head] = torch.softmax(s, 0) @ v[: t + 1, kvh]
        x = x + att.reshape(T, H * hd) @ w[p + "self_attn.o_proj.weight"].T
        h = rms(x, w[p + "post_attention_layernorm.weight"])
        g = h @ w[p + "mlp.gate_proj.weight"].T
        mlp = (g * torch.sigmoid(g)) * (h @ w[p + "mlp.up_proj.weight"].T)
        x = x + mlp @ w[p + "mlp.down_proj.weight"].T
    return rms(x, w["model.norm.weight"]) @ w["lm_head.weight"].T


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_matches_reference_math(kv_heads):
    model = tiny_model(seed=3, num_key_value_heads=kv_heads)
    ids = torch.randint(0, VOCAB, (9,), generator=torch.Generator().manual_seed(0))
    ours = model(ids[None]).logits[0].double()
    assert torch.allclose(ours, reference_logits(model, ids), atol=1e-4)


@pytest.mark.parametrize("tied", [False, True])
def test_save_load_round_trip_with_hf_names(tmp_path, tied):
    model = tiny_model(seed=2, tie_word_embeddings=tied)
    folder = str(tmp_path / "m")
    model.save_pretrained(folder)
    cfg = json.load(open(os.path.join(folder, "config.json")))
    assert LLAMA_FIELDS <= set(cfg)
    assert cfg["architectures"] == ["LlamaForCausalLM"] and cfg["model_type"] == "llama"
    assert cfg["tie_word_embeddings"] is tied and cfg["torch_dtype"] == "float32"
    header, meta = read_header(os.path.join(folder, "model.safetensors"))
    assert set(header) == hf_names(2, tied)
    assert meta == {"format": "pt"}
    assert header["model.layers.0.self_attn.k_proj.weight"]["shape"] == [2 * 16, 64]  # GQA: 2 kv heads
    loaded = LlamaForCausalLM.from_pretrained(folder)
    assert (loaded.lm_head.weight is loaded.model.embed_tokens.weight) is tied
    ids = torch.randint(0, VOCAB, (2, 7))
    assert torch.equal(model(ids).logits, loaded(ids).logits)
    assert loaded.config.to_dict() == LlamaConfig.from_pretrained(folder).to_dict()


def test_config_keeps_unknown_fields_and_rejects_other_archs(tmp_path):
    d = tiny_config().to_dict()
    d["transformers_version"] = "4.44.0"
    cfg = LlamaConfig.from_dict(d)
    assert cfg.to_dict()["transformers_version"] == "4.44.0"
    with pytest.raises(ConfigError):
        LlamaConfig.from_dict({**d, "model_type": "gpt2"})
    with pytest.raises(ConfigError):
        LlamaConfig.from_dict({**d, "num_key_value_heads": 3})


def test_bf16_checkpoint_and_shards(tmp_path):
    model = tiny_model(seed=4)
    folder = str(tmp_path / "bf16")
    model.save_pretrained(folder, dtype=torch.bfloat16)
    assert json.load(open(os.path.join(folder, "config.json")))["torch_dtype"] == "bfloat16"
    loaded = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32)
    assert torch.equal(loaded.lm_head.weight, model.lm_head.weight.to(torch.bfloat16).float())
    # the same tensors split over two shards with an index, as large checkpoints ship
    tensors = load_file(os.path.join(folder, "model.safetensors"))
    names = sorted(tensors)
    shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
              "model-00002-of-00002.safetensors": names[len(names) // 2:]}
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    for fname, keys in shards.items():
        save_file({k: tensors[k] for k in keys}, str(sharded / fname))
    weight_map = {k: f for f, keys in shards.items() for k in keys}
    (sharded / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (sharded / "config.json").write_text(open(os.path.join(folder, "config.json")).read())
    again = LlamaForCausalLM.from_pretrained(str(sharded))
    ids = torch.randint(0, VOCAB, (1, 5))
    assert torch.equal(again(ids).logits, loaded(ids).logits)


def test_load_rejects_missing_and_misshapen_tensors(tmp_path):
    model = tiny_model()
    folder = str(tmp_path / "m")
    model.save_pretrained(folder)
    path = os.path.join(folder, "model.safetensors")
    tensors = load_file(path)
    del tensors["model.norm.weight"]
    save_file(tensors, path)
    with pytest.raises(ModelLoadError, match="missing"):
        LlamaForCausalLM.from_pretrained(folder)
    tensors["model.norm.weight"] = torch.ones(63)
    save_file(tensors, path)
    with pytest.raises(ModelLoadError, match="shape"):
        LlamaForCausalLM.from_pretrained(folder)


def test_gqa_equals_mha_with_repeated_kv_heads():
    gqa = tiny_model(seed=5, num_key_value_heads=2)
    mha = tiny_model(seed=6, num_key_value_heads=4)
    sd = gqa.state_dict()
    for k, v in list(sd.items()):
        if k.endswith(("k_proj.weight", "v_proj.weight")):
            sd[k] = v.view(2, 16, 64).repeat_interleave(2, dim=0).reshape(64, 64)
    mha.load_state_dict(sd)
    ids = torch.randint(0, VOCAB, (2, 8))
    assert torch.allclose(gqa(ids).logits, mha(ids).logits, atol=1e-5)


def test_kv_cache_matches_full_forward():
    model = tiny_model(seed=7)
    ids = torch.randint(0, VOCAB, (2, 12), generator=torch.Generator().manual_seed(1))
    full = model(ids).logits
    out = model(ids[:, :5], use_cache=True)
    steps = [out.logits]
    past = out.past_key_values
    assert past[0][0].shape == (2, 2, 5, 16)
    for t in range(5, 12):
        out = model(ids[:, t:t + 1], past_key_values=past, use_cache=True)
        past = out.past_key_values
        steps.append(out.logits)
    assert torch.allclose(torch.cat(steps, dim=1), full, atol=1e-5)


def test_greedy_generation_with_cache_equals_recomputation():
    model = tiny_model(seed=8)
    prompt = torch.randint(0, VOCAB, (2, 6), generator=torch.Generator().manual_seed(2))
    new = greedy_generate(model, prompt, max_new_tokens=8)
    seq = prompt
    for _ in range(8):
        nxt = model(seq).logits[:, -1].argmax(-1, keepdim=True)
        seq = torch.cat((seq, nxt), dim=1)
    assert torch.equal(new, seq[:, 6:])


def test_left_padding_is_invisible():
    model = tiny_model(seed=9)
    a = torch.randint(3, VOCAB, (1, 4), generator=torch.Generator().manual_seed(3))
    b = torch.randint(3, VOCAB, (1, 7), generator=torch.Generator().manual_seed(4))
    batch = torch.cat((torch.cat((torch.full((1, 3), 0), a), dim=1), b), dim=0)
    mask = torch.ones_like(batch)
    mask[0, :3] = 0
    logits = model(batch, attention_mask=mask).logits
    assert torch.allclose(logits[0, 3:], model(a).logits[0], atol=1e-5)
    assert torch.allclose(logits[1], model(b).logits[0], atol=1e-5)
    gen = greedy_generate(model, batch, 5, attention_mask=mask)
    assert torch.equal(gen[0], greedy_generate(model, a, 5)[0])
    assert torch.equal(gen[1], greedy_generate(model, b, 5)[0])


@pytest.mark.skipif(not HAS_SDPA, reason="scaled_dot_product_attention needs PyTorch 2.x")
def test_sdpa_matches_eager():
    model = tiny_model(seed=10)
    ids = torch.randint(0, VOCAB, (2, 9))
    mask = torch.ones_like(ids)
    mask[0, :2] = 0
    eager = model(ids, attention_mask=mask).logits
    model.set_attention_implementation("sdpa")
    assert torch.allclose(model(ids, attention_mask=mask).logits, eager, atol=1e-5)


def test_llama3_rope_scaling_keeps_high_frequencies():
    cfg = tiny_config(rope_theta=500000.0, rope_scaling={
        "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
        "original_max_position_embeddings": 64})
    plain = rope_inv_freq(tiny_config(rope_theta=500000.0))
    scaled = rope_inv_freq(cfg)
    assert scaled[0] == plain[0]
    assert torch.allclose(scaled[-1], plain[-1] / 8.0)
