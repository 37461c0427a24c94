"""Trials: train one LoRA per candidate self-edit and measure SEAL's reward, many candidates per batched pass.

A trial's accuracy is closed-book QA on its passage's questions after the inner update, judged by the world's
normalised answer match (the gateway's default judge). Trials run in groups of `group_size` through
GroupedAdapters; group_size 1 is the one-at-a-time baseline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

from ..lora import AdapterStack, LoraAdapter, LoraConfig
from ..model import LlamaForCausalLM
from ..training import TokenSequence, TrainParams
from ..world.render import prompt
from ..world.templates import answer_matches
from ..world.tokenizer import Tokenizer, encode_pair
from .grouped_lora import GroupedAdapters, greedy_rows
from .self_edits import Passage

# The gateway's shipped inner update (policies/channels.yaml, default channel), on every projection.
INNER_UPDATE = TrainParams(
    lora=LoraConfig(r=16, lora_alpha=32.0, target_modules=[
        "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
    lr=3e-3, epochs=10, batch_size=8, seed=0,
)
ANSWER_TOKENS = 8


@dataclass
class Trial:
    passage: Passage
    sequences: List[TokenSequence]
    seed: int = 0
    frozen: List[LoraAdapter] = field(default_factory=list)  # adapters under this trial's (continual runs)
    probe: List[Passage] = field(default_factory=list)  # passages measured after the update (default: its own)


@dataclass
class TrialResult:
    accuracy: float  # on the trial's own passage
    probe_accuracy: List[float]  # on each probe passage
    adapter: Optional[LoraAdapter]
    final_loss: float
    # Mean loss per token of the reference answers after the update (teacher-forced): a finer signal than
    # accuracy over a passage's few questions, used to break ties between self-edits of equal reward.
    answer_nll: float = float("nan")


def closed_book_prompts(tok: Tokenizer, passage: Passage) -> List[List[int]]:
    return [tok.encode(prompt("closed-book", question=str(q["question"]))) for q in passage.questions]


def answer_sequences(tok: Tokenizer, passage: Passage) -> List[TokenSequence]:
    """Each closed-book question with its reference answer, the loss on the answer."""
    return [TokenSequence(*encode_pair(tok, prompt("closed-book", question=str(q["question"])), " " + str(q["answer"])))
            for q in passage.questions]


def score(tok: Tokenizer, passage: Passage, answers: Sequence[Sequence[int]]) -> float:
    hits = [
        answer_matches(tok.decode(a), str(q["answer"]), q.get("aliases") or [])  # type: ignore[arg-type]
        for q, a in zip(passage.questions, answers)
    ]
    return sum(hits) / len(hits) if hits else 0.0


def closed_book_accuracy(
    model: LlamaForCausalLM, stack: AdapterStack, tok: Tokenizer, passages: Sequence[Passage], group: int = 64
) -> List[float]:
    """Accuracy per passage with no update (the model and its current stack)."""
    out: List[float] = []
    for i in range(0, len(passages), group):
        chunk = passages[i:i + group]
        rows = [ids for p in chunk for ids in closed_book_prompts(tok, p)]
        answers = greedy_rows(model, rows, ANSWER_TOKENS, int(tok.eos_id))  # type: ignore[arg-type]
        at = 0
        for p in chunk:
            out.append(score(tok, p, answers[at:at + len(p.questions)]))
            at += len(p.questions)
    return out


def run_trials(
    model: LlamaForCausalLM,
    stack: AdapterStack,
    tok: Tokenizer,
    trials: Sequence[Trial],
    params: TrainParams = INNER_UPDATE,
    group_size: int = 32,
    keep_adapters: bool = False,
    on_progress: Optional[Callable[[int, int], None]] = None,
) -> List[TrialResult]:
    # Trials of similar size share a group, so little of a batch is padding.
    order = sorted(range(len(trials)), key=lambda j: sum(len(s.input_ids) for s in trials[j].sequences))
    results: List[TrialResult] = []
    for i in range(0, len(order), group_size):
        chunk = [trials[j] for j in order[i:i + group_size]]
        frozen = [t.frozen for t in chunk] if any(t.frozen for t in chunk) else None
        with GroupedAdapters(stack, params.lora, [t.seed for t in chunk], frozen=frozen) as ga:
            trained = ga.train(model, [t.sequences for t in chunk], params)
            probes = [[t.passage, *t.probe] for t in chunk]
            prompts = [[ids for p in ps for ids in closed_book_prompts(tok, p)] for ps in probes]
            answers = ga.generate(model, prompts, ANSWER_TOKENS, int(tok.eos_id))
            nll = ga.sequence_nll(model, [answer_sequences(tok, t.passage) for t in chunk])
        for t, tr, ps, ans, ans_nll in zip(chunk, trained, probes, answers, nll):
            accs: List[float] = []
            at = 0
            for p in ps:
                accs.append(score(tok, p, ans[at:at + len(p.questions)]))
                at += len(p.questions)
            results.append(TrialResult(
                accuracy=accs[0], probe_accuracy=accs[1:],
                adapter=tr.adapter if keep_adapters else None,
                final_loss=tr.loss_curve[-1] if tr.loss_curve else float("nan"),
                answer_nll=ans_nll,
            ))
        if on_progress is not None:
            on_progress(len(results), len(trials))
    by_trial: List[Optional[TrialResult]] = [None] * len(trials)
    for j, r in zip(order, results):
        by_trial[j] = r
    return [r for r in by_trial if r is not None]


