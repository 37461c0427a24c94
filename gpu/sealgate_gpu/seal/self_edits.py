"""Self-edits: sampling them from a passage (SEAL's prompt families), and turning them into the inner update's
training sequences exactly as the gateway does (src/training/self-edit-sequences.ts)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, List, Sequence

import torch

from ..model import LlamaForCausalLM, left_padded, pad_token_id
from ..training import TokenSequence
from ..world.render import prompt
from ..world.tokenizer import Tokenizer, encode_pair

FAMILIES = ("implications", "rewrite", "self-qa")


@dataclass
class Passage:
    id: str
    title: str
    text: str
    questions: List[Dict[str, object]]  # {question, answer, aliases}

    @classmethod
    def from_record(cls, rec: Dict[str, object]) -> "Passage":
        return cls(str(rec["id"]), str(rec["title"]), str(rec["passage"]), list(rec["questions"]))  # type: ignore[arg-type]


def self_edit_prompt(family: str, passage: Passage) -> str:
    if family not in FAMILIES:
        raise ValueError(f"unknown prompt family {family!r}; one of {FAMILIES}")
    return prompt(family, title=passage.title, context=passage.text)


_NUMBERED_QUESTION = re.compile(r"^Question \d+:\s*")


def self_edit_lines(family: str, text: str) -> List[str]:
    """The self-edit's training lines. A self-qa answer line joins its question, so each pair trains as one
    sequence ("Question: ...\\nAnswer: ..."); the gateway applies the same rule."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if family != "self-qa":
        return lines
    out: List[str] = []
    for line in lines:
        if line.startswith("Answer:") and out:
            out[-1] = f"{out[-1]}\n{line}"
        else:
            out.append("Question: " + _NUMBERED_QUESTION.sub("", line).removeprefix("Question:").strip())
    return out


def text_sequence(tok: Tokenizer, text: str) -> TokenSequence:
    """`<s> text </s>` with the loss on every token after <s>."""
    ids = tok.encode(text) + [int(tok.eos_id)]  # type: ignore[arg-type]
    return TokenSequence(ids, [0] + [1] * (len(ids) - 1))


def passage_sequences(tok: Tokenizer, passage: Passage) -> List[TokenSequence]:
    return [text_sequence(tok, f"{passage.title}\n{passage.text}")]


def edit_sequences(tok: Tokenizer, family: str, passage: Passage, text: str) -> List[TokenSequence]:
    """SEAL's inner-update data: every self-edit line, then the passage."""
    return [text_sequence(tok, line) for line in self_edit_lines(family, text)] + passage_sequences(tok, passage)


@torch.no_grad()
def sample_texts(
    model: LlamaForCausalLM,
    tok: Tokenizer,
    prompts: Sequence[str],
    max_new_tokens: int = 96,
    temperature: float = 1.0,
    top_p: float = 0.95,
    seed: int = 0,
    batch_size: int = 64,
) -> List[str]:
    """Nucleus sampling (temperature, top-p) with the KV cache, left-padded batches, cut at </s>.
    temperature 0 is greedy."""
    gen = torch.Generator().manual_seed(seed)
    device = model.model.embed_tokens.weight.device
    eos = int(tok.eos_id)  # type: ignore[arg-type]
    out: List[str] = []
    for i in range(0, len(prompts), batch_size):
        encoded = [tok.encode(p) for p in prompts[i:i + batch_size]]
        ids, attn = left_padded(encoded, pad_token_id(model))
        ids, attn = ids.to(device), attn.to(device)
        res = model(ids, attention_mask=attn, use_cache=True)
        past = res.past_key_values
        done = torch.zeros(len(encoded), dtype=torch.bool)
        rows: List[List[int]] = [[] for _ in encoded]
        for _ in range(max_new_tokens):
            nxt = _pick(res.logits[:, -1].float().cpu(), temperature, top_p, gen)
            for j, t in enumerate(nxt.tolist()):
                if not done[j]:
                    if t == eos:
                        done[j] = True
                    else:
                        rows[j].append(t)
            if bool(done.all()):
                break
            step = nxt.view(-1, 1).to(device)
            attn = torch.cat((attn, torch.ones_like(step)), dim=1)
            res = model(step, attention_mask=attn, past_key_values=past, use_cache=True)
            past = res.past_key_values
        out += [tok.decode(r) for r in rows]
    return out


def _pick(logits: torch.Tensor, temperature: float, top_p: float, gen: torch.Generator) -> torch.Tensor:
    if temperature <= 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    sorted_p, order = probs.sort(dim=-1, descending=True)
    keep = (sorted_p.cumsum(-1) - sorted_p) < top_p  # the smallest prefix whose mass reaches top_p
    sorted_p = sorted_p * keep
    choice = torch.multinomial(sorted_p / sorted_p.sum(-1, keepdim=True), 1, generator=gen).squeeze(-1)
    return order.gather(-1, choice.view(-1, 1)).squeeze(-1)


def generate_self_edits(
    model: LlamaForCausalLM,
    tok: Tokenizer,
    family: str,
    passages: Sequence[Passage],
    k: int,
    seed: int,
    temperature: float = 1.0,
    top_p: float = 0.95,
    max_new_tokens: int = 96,
) -> List[List[str]]:
    """k sampled self-edits per passage."""
    prompts = [self_edit_prompt(family, p) for p in passages for _ in range(k)]
    texts = sample_texts(model, tok, prompts, max_new_tokens, temperature, top_p, seed)
    return [texts[i * k:(i + 1) * k] for i in range(len(passages))]


def generator_sequences(tok: Tokenizer, family: str, passage: Passage, edit: str) -> TokenSequence:
    """ReST-EM's supervised pair: the prompt, then the kept self-edit; the loss on the self-edit and </s>."""
    ids, mask = encode_pair(tok, self_edit_prompt(family, passage), edit)
    return TokenSequence(ids, mask)

