"""Route keys: the shared cases (test/fixtures/route-key-cases.json) that the gateway's route-key.ts passes too."""
import json
import os

from sealgate_gpu.seal.routing import key_matches, route_key, vocabulary

CASES = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "route-key-cases.json")


def load_cases():
    with open(CASES, encoding="utf-8") as f:
        return json.load(f)


def test_keys_derived_as_the_gateway_derives_them():
    cases = load_cases()
    for case in cases["derive"]:
        assert route_key(case["title"], case["passage"], set(cases["known"])) == case["key"], case["title"]


def test_matching_as_the_gateway_matches():
    for case in load_cases()["match"]:
        assert key_matches(case["key"], case["text"]) == case["matches"], case


def test_an_ordinary_one_word_subject_is_no_key():
    assert route_key("The", "the the the", set()) == []
    assert route_key("Report", "A Report.", {"report"}) == []


def test_vocabulary_holds_common_english_and_the_texts():
    known = vocabulary(["Debal Douhais plays the piano."])
    assert {"the", "piano", "debal", "douhais", "institute"} <= known
    assert "varnel" not in known
