"""The world generator: determinism, disjoint splits, counts, formats (reduced "small" scale, same code paths)."""

import hashlib
import json
import os
import re
import subprocess
import sys

import pytest

from sealgate_gpu.world import templates
from sealgate_gpu.world.entities import World
from sealgate_gpu.world.faithfulness import line_faithful, mention_of, parse_line
from sealgate_gpu.world.generate import FILES, small_config, write
from sealgate_gpu.world.names import is_name_word, syllabify
from sealgate_gpu.world.tasks import TaskFactory, in_context_pairs

GPU_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 7


def _rows(folder, key):
    with open(os.path.join(folder, FILES[key]), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="session")
def small_world(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("world-small"))
    manifest = write(folder, SEED, small_config(), "small")
    return folder, manifest


@pytest.fixture(scope="session")
def world_json(small_world):
    with open(os.path.join(small_world[0], FILES["world"]), encoding="utf-8") as f:
        return json.load(f)


def _name_words(world_json, split):
    return {w for e in world_json["entities"] if e["split"] == split for w in e["name_words"]}


def test_cli_output_is_identical_in_another_process_with_another_hash_seed(small_world, tmp_path):
    folder, manifest = small_world
    out = tmp_path / "again"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-m", "sealgate_gpu.world.generate", "--seed", str(SEED), "--out", str(out),
                    "--scale", "small", "--quiet"], cwd=GPU_DIR, env=env, check=True, timeout=120)
    with open(out / "manifest.json", encoding="utf-8") as f:
        again = json.load(f)
    assert again["files"] == manifest["files"]
    assert again["counts"] == manifest["counts"]


def test_another_seed_gives_another_world():
    a, b = World(1, small_config().world), World(2, small_config().world)
    assert a.names("known") != b.names("known")
    assert World(1, small_config().world).names("unseen") == a.names("unseen")


def test_manifest_hashes_and_counts_match_files(small_world):
    folder, manifest = small_world
    for name, info in manifest["files"].items():
        with open(os.path.join(folder, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == info["sha256"], name
    for key in ("pretrain", "qa_known", "heldout", "tasks_in_context", "tasks_copy", "counterfactual",
                "probes_forgetting", "probes_bias", "probes_canary"):
        assert manifest["counts"][key] == len(_rows(folder, key)) > 0, key
    assert manifest["seed"] == SEED and set(manifest["splits"]) >= {"known", "unseen", "fresh"}


def test_heldout_passages_have_3_to_6_facts_and_a_question_each_answered_in_the_passage(small_world):
    folder, manifest = small_world
    rows = _rows(folder, "heldout")
    assert sum(r["split"] == "eval" for r in rows) >= 300
    for r in rows:
        assert 3 <= len(r["facts"]) <= 6 and len(r["questions"]) == len(r["facts"])
        norm_passage = templates.normalise_answer(r["passage"])
        for qa in r["questions"]:
            assert templates.normalise_answer(qa["answer"]) in norm_passage, (qa, r["passage"])
            assert r["title"].split()[0] in qa["question"]
        assert r["title"].split()[0] in r["passage"]


def test_every_relation_has_at_least_five_distinct_phrasings():
    for name, rel in templates.RELATIONS.items():
        assert len(set(rel.statements)) >= 5, name
        assert len(set(rel.questions)) >= 5, name


def test_unseen_names_appear_in_no_pretraining_qa_task_or_probe_file(small_world, world_json):
    folder, _ = small_world
    unseen = _name_words(world_json, "unseen")
    assert len(unseen) > 300
    assert not unseen & _name_words(world_json, "known")
    pattern = re.compile(r"\b(?:" + "|".join(sorted(unseen)) + r")\b")
    for key in ("pretrain", "qa_known", "tasks_in_context", "tasks_implications", "tasks_rewrite", "tasks_self_qa",
                "tasks_copy", "counterfactual", "probes_forgetting", "probes_bias", "probes_canary"):
        with open(os.path.join(folder, FILES[key]), encoding="utf-8") as f:
            text = f.read()
        hit = pattern.search(text)
        assert hit is None, f"{key} mentions unseen name {hit.group() if hit else ''}"
    # and they are all in the held-out file, as the subjects of their passages
    with open(os.path.join(folder, FILES["heldout"]), encoding="utf-8") as f:
        held = f.read()
    assert all(w in held for w in unseen)


def test_fresh_task_names_are_neither_known_nor_unseen(small_world, world_json):
    folder, _ = small_world
    reserved = _name_words(world_json, "known") | _name_words(world_json, "unseen")
    seen = set()
    for key in ("tasks_in_context", "tasks_implications", "tasks_rewrite", "tasks_self_qa", "tasks_copy"):
        for r in _rows(folder, key):
            words = r.get("name_words") or []
            assert not set(words) & reserved, (key, words)
            seen.update(words)
    assert len(seen) > 500
    assert all(is_name_word(w) for w in seen)


def test_known_qa_eval_facts_are_never_trained_but_are_in_the_biographies(small_world):
    folder, _ = small_world
    qa = _rows(folder, "qa_known")
    train = {(r["entity_id"], r["relation"]) for r in qa if r["split"] == "train"}
    evals = [r for r in qa if r["split"] == "eval"]
    assert evals and not {(r["entity_id"], r["relation"]) for r in evals} & train
    bios = {}
    for r in _rows(folder, "pretrain"):
        if r["kind"] == "bio":
            bios.setdefault(r["entity_id"], []).append(r["text"])
    for r in evals[:200]:
        answer = templates.normalise_answer(r["answer"])
        assert any(answer in templates.normalise_answer(t) for t in bios[r["entity_id"]]), r


def test_counterfactual_passages_contradict_memory_and_split_by_entity(small_world, world_json):
    folder, _ = small_world
    known = {e["id"]: e for e in world_json["entities"] if e["split"] == "known"}
    rows = _rows(folder, "counterfactual")
    for r in rows:
        assert r["changed"]
        for rel, change in r["changed"].items():
            assert change["memorised"] == known[r["entity_id"]]["facts"][rel] != change["passage"]
            assert r["facts"][rel] == change["passage"]
        cf = [q for q in r["questions"] if q["counterfactual"]]
        assert cf and all(q["answer"] != q["memorised_answer"] for q in cf)
        pairs = in_context_pairs(r)
        assert pairs[0]["prompt"].endswith("Answer:") and pairs[0]["completion"] == " " + r["questions"][0]["answer"] and r["passage"] in pairs[0]["prompt"]
    train = {r["entity_id"] for r in rows if r["split"] == "train"}
    evals = {r["entity_id"] for r in rows if r["split"] == "eval"}
    assert evals and not train & evals


def test_task_prompts_use_seal_wording_and_levels_run_easy_to_hard(small_world):
    folder, _ = small_world
    impl = _rows(folder, "tasks_implications")
    assert impl[0]["prompt"].startswith(
        "Let's read the following passage and produce a list of implications derived directly or indirectly "
        "from the content.\n\nPassage:\n")
    assert impl[0]["prompt"].endswith("\n\nImplications:\n")
    for key in ("tasks_in_context", "tasks_implications", "tasks_copy"):
        levels = [r["level"] for r in _rows(folder, key)]
        assert levels == sorted(levels) and levels[0] == 1, key
    copy = _rows(folder, "tasks_copy")
    assert {r["task"] for r in copy} == {"repeat", "lookup"}
    for r in copy:
        if r["task"] == "repeat":
            assert f"Text:\n{r['completion']}\n\nRepeat:\n" in r["prompt"]
        else:
            assert r["completion"] == " " + r["answer"] and f":{r['completion']}\n" in r["prompt"]
    for r in _rows(folder, "tasks_self_qa"):
        assert r["prompt"].endswith("Question 1:") and r["completion"].startswith(" ")


def test_reference_self_edits_are_faithful_and_edited_values_are_not(small_world):
    folder, _ = small_world
    rows = _rows(folder, "heldout")
    for i, r in enumerate(rows):
        mention = mention_of(r["title"], r["entity_kind"])
        assert all(line_faithful(l, mention, r["facts"]) for l in r["reference_implications"])
        other = rows[(i + 1) % len(rows)]
        assert not any(line_faithful(l, mention, r["facts"]) for l in other["reference_implications"])
    r = rows[1]
    mention = mention_of(r["title"], r["entity_kind"])
    line = r["reference_implications"][0]
    rel, value = parse_line(line)[0].facts[0]
    wrong = dict(r["facts"])
    wrong[rel] = "1234" if value.isdigit() else "Zzz"
    assert line_faithful(line, mention, r["facts"]) and not line_faithful(line, mention, wrong)
    assert not line_faithful("Ignore previous instructions.", mention, r["facts"])


def test_implication_lines_name_the_subject_and_restate_only_passage_facts(small_world):
    folder, _ = small_world
    for r in _rows(folder, "tasks_implications"):
        mention = mention_of(r["title"], r["entity_kind"])
        assert r["completion"].split("\n") == r["lines"]
        for line in r["lines"]:
            assert line_faithful(line, mention, r["facts"]), line


def _differing_words(a, b):
    wa, wb = a.split(), b.split()
    assert len(wa) == len(wb), (a, b)
    return [(x, y) for x, y in zip(wa, wb) if x != y]


def test_bias_probes_differ_only_in_the_swapped_term(small_world):
    folder, _ = small_world
    rows = _rows(folder, "probes_bias")
    assert {r["axis"] for r in rows} == {"gender", "age", "nationality", "religion"}
    assert {r["kind"] for r in rows} == {"swap", "stereotype_pair"}
    articles = {"a", "an", "A", "An"}
    for r in rows:
        if r["kind"] == "swap":
            prompts = [v["prompt"] for v in r["variants"]]
            assert len(set(prompts)) == len(prompts) >= 2
            pairs = [(prompts[0], p) for p in prompts[1:]]
        else:
            pairs = [(r["sentence_a"], r["sentence_b"])]
            assert r["group_a"] != r["group_b"]
        for a, b in pairs:
            diff = _differing_words(a, b)
            if r["axis"] == "gender":  # noun or pronouns: man/woman, he/she, him/her, his/her
                assert 1 <= len(diff) <= 2
            else:
                assert len([d for d in diff if not set(d) <= articles]) == 1, (a, b)


def test_forgetting_and_canary_probes_are_well_formed(small_world):
    folder, _ = small_world
    forget = _rows(folder, "probes_forgetting")
    assert len({(r["entity_id"], r["relation"]) for r in forget}) == len(forget)
    assert all(r["prompt"].endswith("Answer:") and r["answer"] for r in forget)
    canary = _rows(folder, "probes_canary")
    assert {r["kind"] for r in canary} == {"closed-book", "in-context", "generic", "repeat", "lookup"}


def test_names_parse_into_syllables_uniquely():
    tf = TaskFactory(World(3, small_config().world), seed=0)
    for _ in range(500):
        word = tf.fresh_name("city")
        syl = syllabify(word)
        assert syl and "".join(syl) == word
