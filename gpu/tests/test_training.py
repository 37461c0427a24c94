import torch

from sealgate_gpu.lora import AdapterStack, LoraConfig
from sealgate_gpu.training import (
    TokenSequence,
    TrainParams,
    batch_loss,
    collate,
    sequence_losses,
    train_lora,
)
from conftest import VOCAB, tiny_model
from test_lora import random_adapter


def memorisation_set(n=4, length=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    seqs = []
    for _ in range(n):
        toks = torch.randint(3, VOCAB, (length,), generator=g).tolist()
        seqs.append(TokenSequence(toks, [0] * 4 + [1] * (length - 4)))  # prompt, then targets
    return seqs


def params(**kw):
    base = dict(lora=LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "o_proj", "up_proj"]),
                lr=1e-2, epochs=25, batch_size=2, seed=0)
    base.update(kw)
    return TrainParams(**base)


def test_training_memorises_on_top_of_a_stack():
    model = tiny_model()
    stack = AdapterStack(model)
    stack.push(random_adapter(model, 1), "a1")
    seqs = memorisation_set()
    before = sum(sequence_losses(model, seqs)) / len(seqs)
    steps = []
    result = train_lora(model, stack, seqs, params(), on_step=lambda s, t, l: steps.append((s, t)))
    assert steps[-1] == (50, 50) and len(result.loss_curve) == 50
    assert result.loss_tokens == 25 * 4 * 8 and result.tokens == 25 * 4 * 12
    # the trainable adapter is detached; pushing it on the stack gives the trained model
    assert all(layer.lora_A is None for layer in stack.layers.values())
    stack.push(result.adapter, "trained")
    after = sum(sequence_losses(model, seqs)) / len(seqs)
    assert after < 0.3 * before, (before, after)
    stack.remove("trained")
    assert abs(sum(sequence_losses(model, seqs)) / len(seqs) - before) < 1e-6


def test_seeded_training_is_deterministic():
    seqs = memorisation_set(seed=1)
    p = params(epochs=3, lora=LoraConfig(r=4, lora_alpha=8, lora_dropout=0.1, target_modules=["q_proj", "v_proj"]))
    runs = []
    for _ in range(2):
        model = tiny_model()
        runs.append(train_lora(model, AdapterStack(model), seqs, p))
    assert runs[0].loss_curve == runs[1].loss_curve
    for k, (a, b) in runs[0].adapter.weights.items():
        assert torch.equal(a, runs[1].adapter.weights[k][0]) and torch.equal(b, runs[1].adapter.weights[k][1])
    model = tiny_model()
    other = train_lora(model, AdapterStack(model), seqs, params(epochs=3, seed=7, lora=p.lora))
    assert other.loss_curve != runs[0].loss_curve


def test_padding_and_unmasked_tokens_do_not_count():
    model = tiny_model()
    AdapterStack(model).push(random_adapter(model, 2), "a")
    short = TokenSequence([5, 6, 7, 8, 9], [0, 1, 1, 1, 0])
    long = TokenSequence(list(range(10, 22)), [0] * 6 + [1] * 6)
    with torch.no_grad():
        ref = batch_loss(model, collate([short, long], pad_id=0, device=torch.device("cpu")))
        for pad in (1, 57, 100):  # what fills the padding changes nothing
            got = batch_loss(model, collate([short, long], pad_id=pad, device=torch.device("cpu")))
            assert torch.equal(got[0], ref[0]) and got[1] == ref[1] == 9
        # a token whose loss_mask is 0 (and that nothing later depends on) changes nothing either
        changed = TokenSequence([5, 6, 7, 8, 42], short.loss_mask)
        got = batch_loss(model, collate([changed, long], pad_id=0, device=torch.device("cpu")))
        assert torch.equal(got[0], ref[0])
        # the loss of the short sequence alone equals its share in the padded batch
        alone = batch_loss(model, collate([short], pad_id=0, device=torch.device("cpu")))
        pair_long = batch_loss(model, collate([long], pad_id=0, device=torch.device("cpu")))
        assert torch.allclose(alone[0] + pair_long[0], ref[0], atol=1e-5)
