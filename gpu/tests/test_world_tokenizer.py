"""The byte-level BPE tokenizer of the default model: tokenizer.json format, round trip, syllable names, lengths."""

import json
import os

import pytest

from sealgate_gpu.world.generate import FILES, corpus_texts, small_config, write
from sealgate_gpu.world.names import syllabify
from sealgate_gpu.world.tasks import in_context_pairs
from sealgate_gpu.world.tokenizer import SPACE, SPECIAL_TOKENS, Tokenizer, train_tokenizer

SEED = 7


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("world-tok"))
    manifest = write(folder, SEED, small_config(), "small")
    data = {}
    for key, name in FILES.items():
        if name.endswith(".jsonl"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                data[key] = [json.loads(line) for line in f]
    with open(os.path.join(folder, FILES["world"]), encoding="utf-8") as f:
        world = json.load(f)
    return folder, manifest, data, world


@pytest.fixture(scope="session")
def tok(generated):
    return Tokenizer.from_file(os.path.join(generated[0], FILES["tokenizer"]))


def test_tokenizer_json_is_a_hugging_face_byte_level_bpe(generated):
    with open(os.path.join(generated[0], FILES["tokenizer"]), encoding="utf-8") as f:
        spec = json.load(f)
    model = spec["model"]
    assert model["type"] == "BPE" and model["unk_token"] == "<unk>" and model["byte_fallback"] is False
    assert spec["pre_tokenizer"] == {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                                     "use_regex": True}
    assert spec["decoder"]["type"] == "ByteLevel" and spec["normalizer"] is None
    assert [(t["content"], t["id"], t["special"]) for t in spec["added_tokens"]] == [
        (t, i, True) for i, t in enumerate(SPECIAL_TOKENS)]
    vocab = model["vocab"]
    assert sorted(vocab.values()) == list(range(len(vocab)))
    assert 2000 <= len(vocab) <= 8000
    for merge in model["merges"]:
        a, b = merge.split(" ")
        assert a in vocab and b in vocab and a + b in vocab, merge
    assert spec["post_processor"]["type"] == "TemplateProcessing"


def test_round_trip_on_the_corpus_and_on_awkward_text(generated, tok):
    _, _, data, _ = generated
    texts = list(corpus_texts(data))
    assert len(texts) > 1000
    for text in texts:
        assert tok.decode(tok.encode(text)) == text
    for text in ["", " ", "  two  spaces\n\n\ttab", "Ünïcödé — “quotes” 日本語 🙂", "x_y__z 3.14 1e-5 $%^&",
                 "trailing space ", "\nleading newline", "it's they're we've I'm you'll he'd"]:
        assert tok.decode(tok.encode(text)) == text


def test_no_unknown_tokens_in_the_corpus(generated, tok):
    _, _, data, _ = generated
    for text in corpus_texts(data):
        assert tok.unk_id not in tok.encode(text, add_special_tokens=False)


def test_special_tokens(tok):
    assert (tok.unk_id, tok.bos_id, tok.eos_id, tok.pad_id) == (0, 1, 2, 3)
    ids = tok.encode("Hello")
    assert ids[0] == tok.bos_id and tok.bos_id not in ids[1:]
    assert tok.encode("a</s>", add_special_tokens=False)[-1] == tok.eos_id
    assert tok.decode(ids + [tok.eos_id, tok.pad_id]) == "Hello"
    assert tok.decode([tok.bos_id] + ids[1:], skip_special_tokens=False) == "<s>Hello"


def test_unseen_names_tokenise_to_their_syllables_which_the_corpus_trains(generated, tok):
    _, _, data, world = generated
    trained = {}
    for key in ("pretrain", "tasks_in_context", "tasks_implications", "tasks_copy"):
        for rec in data[key]:
            text = rec.get("text") or rec["prompt"] + rec["completion"]
            for t in tok.encode(text, add_special_tokens=False):
                trained[t] = trained.get(t, 0) + 1
    unseen = [w for e in world["entities"] if e["split"] == "unseen" for w in e["name_words"]]
    assert len(unseen) > 300
    for word in unseen:
        syl = syllabify(word)
        assert tok.tokens(" " + word) == [SPACE + syl[0]] + syl[1:], word
        assert tok.tokens(word) == syl, word
        ids = tok.encode(" " + word, add_special_tokens=False) + tok.encode(word, add_special_tokens=False)
        assert tok.unk_id not in ids
    pieces = [t for w in unseen for t in tok.encode(" " + w, add_special_tokens=False)]
    assert sum(1 for t in pieces if trained.get(t, 0) > 0) / len(pieces) > 0.97


def test_years_are_two_tokens_and_template_words_one(tok):
    assert tok.tokens(" 1867") == [SPACE + "18", "67"]
    assert tok.tokens(" 2015") == [SPACE + "20", "15"]
    for word in ("born", "employs", "headquartered", "implications", "favourite", "instrument"):
        assert len(tok.tokens(" " + word)) == 1, word


def test_facts_and_answers_are_short(generated, tok):
    _, manifest, data, _ = generated
    held = data["heldout"]
    passages = [len(tok.encode(r["title"] + "\n" + r["passage"], add_special_tokens=False)) for r in held]
    answers = [len(tok.encode(" " + q["answer"], add_special_tokens=False)) for r in held for q in r["questions"]]
    assert sum(passages) / len(passages) < 70 and max(passages) < 120
    assert sum(answers) / len(answers) < 3.5 and max(answers) <= 6
    stats = manifest["token_stats"]
    assert stats["heldout_passage_tokens_mean"] == round(sum(passages) / len(passages), 2)
    assert stats["tasks_implications_sequence_tokens_max"] < 320


def test_prompt_and_completion_tokenise_independently(generated, tok):
    _, _, data, _ = generated
    records = [r for k in ("qa_known", "tasks_in_context", "tasks_implications", "tasks_rewrite", "tasks_self_qa",
                           "tasks_copy") for r in data[k][:300]]
    records += [p for r in data["counterfactual"][:50] for p in in_context_pairs(r)]
    for r in records:
        joint = tok.encode(r["prompt"] + r["completion"], add_special_tokens=False)
        split = tok.encode(r["prompt"], add_special_tokens=False) + tok.encode(r["completion"],
                                                                                add_special_tokens=False)
        assert joint == split, r["id"] if "id" in r else r["prompt"]


def test_training_is_deterministic():
    texts = ["Kelan Moravi was born in 1867 in Dosu.", "The Tamu River flows through Velmar."] * 30
    a, _ = train_tokenizer(texts, vocab_size=3000, min_frequency=2)
    b, _ = train_tokenizer(list(reversed(texts)), vocab_size=3000, min_frequency=2)
    assert json.dumps(a) == json.dumps(b)


def test_matches_the_tokenizers_library_when_installed(generated, tok):
    tokenizers = pytest.importorskip("tokenizers")
    ref = tokenizers.Tokenizer.from_file(os.path.join(generated[0], FILES["tokenizer"]))
    _, _, data, _ = generated
    for text in list(corpus_texts(data))[:2000]:
        assert ref.encode(text).ids == tok.encode(text)
        assert ref.decode(ref.encode(text).ids) == text


def _contains(seq, sub):
    n = len(sub)
    return any(seq[i : i + n] == sub for i in range(len(seq) - n + 1))


def test_answers_are_copies_of_passage_tokens(generated, tok):
    """In-context answers are a contiguous run of the prompt's tokens: reading is copying, not re-spelling."""
    _, _, data, _ = generated
    records = list(data["tasks_in_context"]) + [p for r in data["counterfactual"] for p in in_context_pairs(r)]
    records += [p for r in data["heldout"] for p in in_context_pairs(r)]
    records += [r for r in data["tasks_copy"] if r["task"] == "lookup"]
    for r in records:
        completion = tok.encode(r["completion"], add_special_tokens=False)
        assert _contains(tok.encode(r["prompt"], add_special_tokens=False), completion), r["completion"]


def test_encode_pair_masks_the_prompt(tok):
    from sealgate_gpu.world.tokenizer import encode_pair

    ids, mask = encode_pair(tok, "Question: Who?\nAnswer:", " Kelan Moravi")
    assert ids[0] == tok.bos_id and ids[-1] == tok.eos_id and len(ids) == len(mask)
    assert tok.decode([i for i, m in zip(ids, mask) if m]) == " Kelan Moravi"
    assert ids[1:-1] == tok.encode("Question: Who?\nAnswer: Kelan Moravi", add_special_tokens=False)
