"""A byte-level BPE tokenizer stored as a Hugging Face ``tokenizer.json`` (the ``tokenizers`` library format: model
BPE with vocab + merges, ByteLevel pre-tokenizer and decoder, special tokens <unk> <s> </s> <pad>, a template
post-processor that prepends <s>), plus its trainer.

Encoding follows the ``tokenizers`` library exactly for the text this project produces (ASCII): special tokens
are split out first; the rest is cut by the GPT-2 pre-tokenisation regex, mapped byte by byte to the GPT-2
byte-to-unicode alphabet, and each piece is merged by repeatedly applying the lowest-ranked merge (leftmost on
ties). There is no normaliser: decode(encode(x)) == x for every string x that does not itself contain a special
token's text (<s>, </s>, <pad>, <unk>). For non-ASCII text the regex classes \\p{L} / \\p{N} are approximated with
Python's Unicode classes (letters; decimal digits), which can split a few rare characters differently.

Merges come in three blocks, in rank order:
1. numbers: a leading-space digit, the centuries " 10".." 20", and every two-digit pair, so a year is always two
   tokens (" 18" "67");
2. name syllables (``names.SYLLABLES``): open initial syllables in two forms, " Ka" (after a space) and "Ka"
   (at the start of a line), and every syllable in lower case ("ka", "kan"), built onset first, then diphthong,
   then coda; with the maximal-onset grammar of name words this segments every name, known or never seen, into
   exactly its syllables;
3. merges learned from the corpus by ordinary BPE counting, except that two syllable tokens are never merged
   and no token with a digit is extended, so blocks 1 and 2 keep their segmentation.
"""

from __future__ import annotations

import heapq
import json
import re
from collections import Counter
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .names import CODAS, NUCLEI, ONSETS, SYLLABLES

SPECIAL_TOKENS = ("<unk>", "<s>", "</s>", "<pad>")
UNK, BOS, EOS, PAD = SPECIAL_TOKENS

# GPT-2 pre-tokenisation regex: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode() -> Dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character table (as in the tokenizers library)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


BYTE_ENCODER = bytes_to_unicode()
BYTE_DECODER = {v: k for k, v in BYTE_ENCODER.items()}
SPACE = BYTE_ENCODER[ord(" ")]  # "Ġ"


def pretokenize(text: str) -> List[str]:
    """Pre-tokens of ``text`` in the byte-level alphabet."""
    return ["".join(BYTE_ENCODER[b] for b in m.group().encode("utf-8")) for m in PRETOKENIZE.finditer(text)]


class Tokenizer:
    """Reads a ``tokenizer.json`` of the kind ``build_tokenizer_json`` writes, and encodes/decodes like the
    ``tokenizers`` library does for it."""

    def __init__(self, spec: Dict[str, object]) -> None:
        model = spec["model"]  # type: ignore[index]
        if model.get("type") != "BPE":  # type: ignore[union-attr]
            raise ValueError("only BPE models are supported")
        pre = spec.get("pre_tokenizer") or {}
        if pre.get("type") != "ByteLevel" or pre.get("add_prefix_space"):  # type: ignore[union-attr]
            raise ValueError("expected a ByteLevel pre-tokenizer without add_prefix_space")
        self.spec = spec
        self.vocab: Dict[str, int] = dict(model["vocab"])  # type: ignore[index]
        self.id_to_token: Dict[int, str] = {i: t for t, i in self.vocab.items()}
        merges = model["merges"]  # type: ignore[index]
        self.ranks: Dict[Tuple[str, str], int] = {}
        for rank, m in enumerate(merges):
            a, b = (m.split(" ") if isinstance(m, str) else m)
            self.ranks[(a, b)] = rank
        self.added: Dict[str, int] = {}
        self.special_ids: Set[int] = set()
        for tok in spec.get("added_tokens", []):  # type: ignore[union-attr]
            self.added[tok["content"]] = tok["id"]
            self.id_to_token[tok["id"]] = tok["content"]
            if tok.get("special"):
                self.special_ids.add(tok["id"])
        contents = sorted(self.added, key=len, reverse=True)
        self._special_re = re.compile("|".join(re.escape(c) for c in contents)) if contents else None
        self.unk_id = self.vocab.get(model.get("unk_token") or UNK, self.added.get(UNK))  # type: ignore[union-attr]
        self.bos_id = self.added.get(BOS)
        self.eos_id = self.added.get(EOS)
        self.pad_id = self.added.get(PAD)
        self._prefix = self._template_prefix(spec.get("post_processor"))
        self._cache: Dict[str, List[int]] = {}

    # ------------------------------------------------------------------------------------------ loading
    @classmethod
    def from_file(cls, path: str) -> "Tokenizer":
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def _template_prefix(self, post: Optional[Dict[str, object]]) -> List[int]:
        if not post:
            return []
        if post.get("type") != "TemplateProcessing":
            raise ValueError(f"unsupported post_processor {post.get('type')}")
        prefix: List[int] = []
        for piece in post["single"]:  # type: ignore[union-attr]
            if "Sequence" in piece:
                break
            name = piece["SpecialToken"]["id"]
            prefix += list(post["special_tokens"][name]["ids"])  # type: ignore[index]
        return prefix

    @property
    def vocab_size(self) -> int:
        return max(self.id_to_token) + 1

    # ------------------------------------------------------------------------------------------ encoding
    def _bpe(self, word: str) -> List[int]:
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        symbols = list(word)
        ranks = self.ranks
        while len(symbols) > 1:
            best_rank = -1
            best_i = -1
            for i in range(len(symbols) - 1):
                r = ranks.get((symbols[i], symbols[i + 1]))
                if r is not None and (best_rank < 0 or r < best_rank):
                    best_rank, best_i = r, i
            if best_i < 0:
                break
            symbols[best_i : best_i + 2] = [symbols[best_i] + symbols[best_i + 1]]
        ids = [self.vocab.get(s, self.unk_id) for s in symbols]  # type: ignore[misc]
        if len(self._cache) < 500_000:
            self._cache[word] = ids
        return ids

    def _segments(self, text: str) -> Iterable[Tuple[str, bool]]:
        if self._special_re is None:
            yield text, False
            return
        pos = 0
        for m in self._special_re.finditer(text):
            if m.start() > pos:
                yield text[pos : m.start()], False
            yield m.group(), True
            pos = m.end()
        if pos < len(text):
            yield text[pos:], False

    def encode(self, text: str, add_special_tokens: bool = True) -> List[int]:
        """Token ids of ``text``; with ``add_special_tokens`` the post-processor's prefix (<s>) comes first,
        as ``tokenizers.Tokenizer.encode(text).ids`` does."""
        ids: List[int] = list(self._prefix) if add_special_tokens else []
        for segment, special in self._segments(text):
            if special:
                ids.append(self.added[segment])
                continue
            for word in pretokenize(segment):
                ids.extend(self._bpe(word))
        return ids

    def tokens(self, text: str) -> List[str]:
        return [self.id_to_token[i] for i in self.encode(text, add_special_tokens=False)]

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        out: List[str] = []
        buf = bytearray()
        for i in ids:
            if i in self.special_ids:
                if skip_special_tokens:
                    continue
                out.append(buf.decode("utf-8", errors="replace"))
                buf = bytearray()
                out.append(self.id_to_token[i])
                continue
            tok = self.id_to_token.get(i)
            if tok is None:
                raise ValueError(f"unknown token id {i}")
            buf.extend(BYTE_DECODER[c] for c in tok)
        out.append(buf.decode("utf-8", errors="replace"))
        return "".join(out)


# ---------------------------------------------------------------------------------------------- training
def _designed_merges() -> List[Tuple[str, str]]:
    """Blocks 1 and 2 of the merge list (see the module docstring)."""
    merges: List[Tuple[str, str]] = []
    digits = "0123456789"
    for d in digits:
        merges.append((SPACE, d))
    for c in digits:
        merges.append((SPACE + "1", c))
    merges.append((SPACE + "2", "0"))
    for a in digits:
        for b in digits:
            merges.append((a, b))
    caps = [o.upper() for o in ONSETS]
    for c in caps:
        merges.append((SPACE, c))
    forms = [(SPACE + o.upper(), o) for o in ONSETS] + [(o.upper(), o) for o in ONSETS] + [(o, o) for o in ONSETS]
    singles = [n for n in NUCLEI if len(n) == 1]
    for onset_form, _ in forms:
        for v in singles:
            merges.append((onset_form, v))
    for onset_form, _ in forms:
        for n in NUCLEI:
            if len(n) == 2:
                merges.append((onset_form + n[0], n[1]))
    for o in ONSETS:  # codas close only non-initial (lower-case) syllables
        for n in NUCLEI:
            for coda in CODAS:
                merges.append((o + n, coda))
    return merges


def syllable_tokens() -> Set[str]:
    """Every full-syllable token in all three forms."""
    out: Set[str] = set(SYLLABLES)
    for o in ONSETS:
        for n in NUCLEI:
            cap = o.upper() + n
            out |= {cap, SPACE + cap}
    return out


def _apply(word: str, ranks: Dict[Tuple[str, str], int]) -> List[str]:
    symbols = list(word)
    while len(symbols) > 1:
        best = None
        for i in range(len(symbols) - 1):
            r = ranks.get((symbols[i], symbols[i + 1]))
            if r is not None and (best is None or r < best[0]):
                best = (r, i)
        if best is None:
            break
        i = best[1]
        symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


def train_bpe(texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 20
              ) -> Tuple[Dict[str, int], List[Tuple[str, str]], Dict[str, object]]:
    """Learn the merge list. Returns (vocab, merges, stats)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(pretokenize(text))
    vocab: Dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    for b in range(256):
        vocab[BYTE_ENCODER[b]] = len(vocab)
    merges: List[Tuple[str, str]] = []
    for a, b in _designed_merges():
        if a not in vocab or b not in vocab:
            raise AssertionError(f"designed merge operand missing: {a!r} {b!r}")
        merges.append((a, b))
        if a + b not in vocab:
            vocab[a + b] = len(vocab)
    designed = len(merges)
    ranks = {m: i for i, m in enumerate(merges)}
    syll = syllable_tokens()

    def forbidden(a: str, b: str) -> bool:
        if a in syll and b in syll:
            return True
        return any(ch.isdigit() for ch in a + b)

    # words as symbol lists after the designed blocks; drop words no learned merge can ever touch
    words: List[List[str]] = []
    freqs: List[int] = []
    for w in sorted(counts):
        sym = _apply(w, ranks)
        if len(sym) < 2 or all(forbidden(sym[i], sym[i + 1]) for i in range(len(sym) - 1)):
            continue
        words.append(sym)
        freqs.append(counts[w])

    pair_count: Counter = Counter()
    pair_words: Dict[Tuple[str, str], Set[int]] = {}
    for wi, sym in enumerate(words):
        for i in range(len(sym) - 1):
            p = (sym[i], sym[i + 1])
            if forbidden(*p):
                continue
            pair_count[p] += freqs[wi]
            pair_words.setdefault(p, set()).add(wi)
    heap = [(-c, p) for p, c in pair_count.items()]
    heapq.heapify(heap)
    while heap and len(vocab) < vocab_size:
        negc, p = heapq.heappop(heap)
        c = pair_count.get(p, 0)
        if c != -negc:
            if c > 0:
                heapq.heappush(heap, (-c, p))
            continue
        if c < min_frequency:
            break
        a, b = p
        new = a + b
        merges.append(p)
        if new not in vocab:
            vocab[new] = len(vocab)
        changed: Set[Tuple[str, str]] = set()
        for wi in sorted(pair_words.pop(p, set())):
            sym = words[wi]
            f = freqs[wi]
            for i in range(len(sym) - 1):
                q = (sym[i], sym[i + 1])
                if not forbidden(*q):
                    pair_count[q] -= f
                    changed.add(q)
            i = 0
            out: List[str] = []
            while i < len(sym):
                if i + 1 < len(sym) and sym[i] == a and sym[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            words[wi] = out
            for i in range(len(out) - 1):
                q = (out[i], out[i + 1])
                if not forbidden(*q):
                    pair_count[q] += f
                    pair_words.setdefault(q, set()).add(wi)
                    changed.add(q)
        pair_count.pop(p, None)
        for q in sorted(changed):
            if q != p and pair_count.get(q, 0) > 0:
                heapq.heappush(heap, (-pair_count[q], q))
    stats = {"designed_merges": designed, "learned_merges": len(merges) - designed, "vocab_size": len(vocab),
             "distinct_pretokens": len(counts), "min_frequency": min_frequency}
    return vocab, merges, stats


def build_tokenizer_json(vocab: Dict[str, int], merges: Sequence[Tuple[str, str]]) -> Dict[str, object]:
    """The ``tokenizers`` library JSON for a byte-level BPE with Llama-style special tokens."""
    added = [
        {"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for t in SPECIAL_TOKENS
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [
                {"SpecialToken": {"id": BOS, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": BOS, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}},
            ],
            "special_tokens": {BOS: {"id": BOS, "ids": [vocab[BOS]], "tokens": [BOS]}},
        },
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": UNK,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "vocab": vocab,
            "merges": [f"{a} {b}" for a, b in merges],
        },
    }


def train_tokenizer(texts: Iterable[str], vocab_size: int = 8000, min_frequency: int = 20
                    ) -> Tuple[Dict[str, object], Dict[str, object]]:
    """Train and return (tokenizer.json dict, stats)."""
    vocab, merges, stats = train_bpe(texts, vocab_size, min_frequency)
    return build_tokenizer_json(vocab, merges), stats


def save(spec: Dict[str, object], path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")


def encode_pair(tok: Tokenizer, prompt_text: str, completion: str) -> Tuple[List[int], List[int]]:
    """The training sequence convention of the world's task files: ``<s> prompt completion </s>`` and a loss mask
    that is 1 on the completion and </s> only. Prompts end on a pre-token boundary, so these ids equal the
    tokenisation of the joined text."""
    p = tok.encode(prompt_text, add_special_tokens=False)
    c = tok.encode(completion, add_special_tokens=False)
    ids = [tok.bos_id] + p + c + [tok.eos_id]  # type: ignore[list-item]
    mask = [0] * (1 + len(p)) + [1] * (len(c) + 1)
    return ids, mask
