import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeQuestion } from 'src/gates/gate-inputs';

/** A behaviour canary: a prompt unrelated to any edit, with its expected answer when it has one. */
export interface CanaryProbe {
  id: string;
  kind: string;
  prompt: string;
  expected: string | null;
}

/** A known fact asked closed-book (forgetting suite). */
export interface FactProbe extends ProbeQuestion {
  id: string;
  entity: string;
  relation: string;
}

/** One counterfactual swap: the same prompt with a group term swapped (man/woman, young/old, ...). */
export interface BiasSwapProbe {
  id: string;
  axis: string;
  variants: { term: string; prompt: string }[];
}

/** Two sentences differing only by the group term, with a trait of positive or negative polarity. */
export interface StereotypePair {
  id: string;
  axis: string;
  trait: string;
  polarity: string;
  groupA: string;
  sentenceA: string;
  groupB: string;
  sentenceB: string;
}

/** A held-out passage about an entity the model never saw (held-out text; self-edit skill). */
export interface HeldoutPassage {
  id: string;
  title: string;
  passage: string;
  questions: ProbeQuestion[];
}

/** How many probes of each suite the gates use (fixed samples: the same probes on every run). */
export interface ProbeSampleSizes {
  canaries: number;
  forgetting: number;
  /** Swap probes per bias axis. */
  biasSwapsPerAxis: number;
  /** Stereotype pairs per bias axis. */
  biasPairsPerAxis: number;
  heldout: number;
}

export const DEFAULT_PROBE_SAMPLE_SIZES: ProbeSampleSizes = {
  canaries: 50,
  forgetting: 60,
  biasSwapsPerAxis: 6,
  biasPairsPerAxis: 30,
  heldout: 24,
};

/** The probe suites of a model's world (models/<name>/world/), sampled deterministically. */
export interface WorldProbes {
  /** Closed-book question templates per relation ({o} the subject, {p} its possessive), from templates.json. */
  questionTemplates: Record<string, string[]>;
  canaries: CanaryProbe[];
  forgetting: FactProbe[];
  biasSwaps: BiasSwapProbe[];
  biasPairs: StereotypePair[];
  heldout: HeldoutPassage[];
}

function readJsonLines<T>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** `count` items spread evenly over `items` (every k-th), in file order: deterministic and unbiased by order. */
export function evenSample<T>(items: T[], count: number): T[] {
  if (count >= items.length) return [...items];
  if (count <= 0) return [];
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]);
}

/** An even sample within each group (by `key`), groups in order of first appearance. */
function sampleByGroup<T>(items: T[], key: (item: T) => string, perGroup: number): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()].flatMap((group) => evenSample(group, perGroup));
}

interface RawBias {
  id: string;
  kind: string;
  axis: string;
  variants?: { term: string; prompt: string }[];
  trait?: string;
  polarity?: string;
  group_a?: string;
  sentence_a?: string;
  group_b?: string;
  sentence_b?: string;
}

interface RawHeldout {
  id: string;
  split: string;
  title: string;
  passage: string;
  questions: ProbeQuestion[];
}

/**
 * Reads the probe files of a model folder's world/ (probes_canary, probes_forgetting, probes_bias, heldout,
 * templates.json) and keeps fixed, even samples of each, so every edit is measured on the same probes.
 */
export function loadWorldProbes(modelDir: string, sizes: Partial<ProbeSampleSizes> = {}): WorldProbes {
  const n = { ...DEFAULT_PROBE_SAMPLE_SIZES, ...sizes };
  const world = join(modelDir, 'world');
  const templates = JSON.parse(readFileSync(join(world, 'templates.json'), 'utf8')) as {
    relations: Record<string, { questions: string[] }>;
  };
  const canaries = readJsonLines<CanaryProbe>(join(world, 'probes_canary.jsonl'));
  const kinds = new Set(canaries.map((c) => c.kind)).size;
  const forgetting = readJsonLines<FactProbe & { aliases?: string[] }>(
    join(world, 'probes_forgetting.jsonl'),
  );
  const bias = readJsonLines<RawBias>(join(world, 'probes_bias.jsonl'));
  // The eval split: passages no self-edit of the training split could have been tuned on.
  const heldout = readJsonLines<RawHeldout>(join(world, 'heldout.jsonl')).filter((p) => p.split === 'eval');
  return {
    questionTemplates: Object.fromEntries(
      Object.entries(templates.relations).map(([relation, r]) => [relation, r.questions]),
    ),
    canaries: sampleByGroup(canaries, (c) => c.kind, Math.ceil(n.canaries / kinds)).map((c) => ({
      id: c.id,
      kind: c.kind,
      prompt: c.prompt,
      expected: c.expected,
    })),
    forgetting: evenSample(forgetting, n.forgetting).map((f) => ({
      id: f.id,
      entity: f.entity,
      relation: f.relation,
      question: f.question,
      answer: f.answer,
      aliases: f.aliases ?? [],
    })),
    biasSwaps: sampleByGroup(
      bias.filter((b) => b.kind === 'swap' && b.variants),
      (b) => b.axis,
      n.biasSwapsPerAxis,
    ).map((b) => ({ id: b.id, axis: b.axis, variants: b.variants! })),
    biasPairs: sampleByGroup(
      bias.filter((b) => b.kind === 'stereotype_pair'),
      (b) => b.axis,
      n.biasPairsPerAxis,
    ).map((b) => ({
      id: b.id,
      axis: b.axis,
      trait: b.trait!,
      polarity: b.polarity!,
      groupA: b.group_a!,
      sentenceA: b.sentence_a!,
      groupB: b.group_b!,
      sentenceB: b.sentence_b!,
    })),
    heldout: evenSample(heldout, n.heldout).map((p) => ({
      id: p.id,
      title: p.title,
      passage: p.passage,
      questions: p.questions,
    })),
  };
}
