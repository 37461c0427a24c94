import { z } from 'zod';
import { countThreshold } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import type { ModelScreeningInput } from 'src/gates/gate-inputs';
import { ModelGateBase } from 'src/gates/probing/model-gate-base';
import { meanNll, round } from 'src/gates/probing/probing';
import { lineWords, removeSpan, suspectSpans } from 'src/gates/poisoning/trigger-suspects';
import { ScreeningAssessment, numberedSelfEditLines, shorten } from 'src/gates/screening/screening-gate';

/** A perplexity drop in nats per token (log-perplexity before minus after removing the suspect). */
const dropThreshold = (value: number) => z.number().min(0).max(20).default(value);

const thresholdsSchema = z
  .object({
    /** A recurring suspect counts in a line when removing it drops that line's log-perplexity by this much. */
    recurringDrop: dropThreshold(1),
    /** ... in at least this many lines: then it is a trigger and the edit is stopped. */
    minRecurringLines: z.number().int().min(2).default(2),
    /** A single-line suspect whose removal drops log-perplexity this much is reported (WARN). */
    singleDrop: dropThreshold(3),
    warnAtSingleSuspects: countThreshold(1),
  })
  .strict();
export type TriggerPerplexityThresholds = z.infer<typeof thresholdsSchema>;

/** Lines scored per edit at most (the first ones): the gate's cost is bounded. */
const MAX_LINES = 24;
const MIN_REMAINING_WORDS = 3;

interface Removal {
  line: number;
  key: string;
  drop: number;
  without: string;
}

/**
 * ONION-style trigger detection with the parent model: for every line, the words and recurring n-grams the
 * passage does not use are removed one at a time and the line re-scored; a suspect whose removal makes lines
 * much more natural (a sharp drop in perplexity), in several lines, is a trigger.
 */
export class TriggerPerplexityGate extends ModelGateBase<ModelScreeningInput, TriggerPerplexityThresholds> {
  readonly name = 'trigger-perplexity';
  readonly version = '1.0.0';
  readonly stage = 'screening' as const;
  readonly thresholdsSchema = thresholdsSchema;

  protected async assess(
    input: ModelScreeningInput,
    t: TriggerPerplexityThresholds,
  ): Promise<ScreeningAssessment> {
    const lines = numberedSelfEditLines(input).slice(0, MAX_LINES);
    const { perLine, recurring } = suspectSpans(
      lines.map((l) => l.text),
      `${input.passage.title} ${input.passage.text}`,
    );
    // A removal that leaves under MIN_REMAINING_WORDS words is not scored: the log-perplexity of a two-word
    // remainder ("Answer: teal" without "Answer:") says nothing about the words removed.
    const variants = perLine.flatMap((spans, l) =>
      spans
        .map(({ span, key }) => ({ l, key, text: removeSpan(lineWords(lines[l].text), span) }))
        .filter((v) => v.text.split(/\s+/).length >= MIN_REMAINING_WORDS),
    );
    const scores = await this.model.score(
      [...lines.map((l) => l.text), ...variants.map((v) => v.text)],
      input.parentFolders,
    );
    const base = lines.map((_, l) => meanNll(scores[l]));
    const removals: Removal[] = variants.map((v, i) => ({
      line: lines[v.l].line,
      key: v.key,
      drop: base[v.l] - meanNll(scores[lines.length + i]),
      without: v.text,
    }));

    const bySuspect = new Map<string, Removal[]>();
    for (const r of removals) {
      if (!recurring.has(r.key)) continue;
      // one occurrence per line counts: the strongest
      const list = bySuspect.get(r.key) ?? [];
      const same = list.findIndex((x) => x.line === r.line);
      if (same < 0) list.push(r);
      else if (r.drop > list[same].drop) list[same] = r;
      bySuspect.set(r.key, list);
    }
    // The suspect that explains the most lines first, then the one whose removal helps every such line most.
    const weakest = (rs: Removal[]) => Math.min(...rs.map((r) => r.drop));
    const triggers = [...bySuspect.entries()]
      .map(([key, rs]) => ({ key, rs, hits: rs.filter((r) => r.drop >= t.recurringDrop) }))
      .filter((s) => s.hits.length >= t.minRecurringLines)
      .sort((a, b) => b.hits.length - a.hits.length || weakest(b.hits) - weakest(a.hits));
    const singles = removals
      .filter((r) => !recurring.has(r.key) && r.drop >= t.singleDrop)
      .sort((a, b) => b.drop - a.drop);

    let verdict = GateVerdict.PASS;
    if (singles.length >= t.warnAtSingleSuspects) verdict = GateVerdict.WARN;
    if (triggers.length > 0) verdict = GateVerdict.FAIL;
    const top = [...removals].sort((a, b) => b.drop - a.drop)[0];
    const recurringDrops = [...bySuspect.values()].map(
      (rs) => [...rs].sort((a, b) => b.drop - a.drop)[Math.min(rs.length, t.minRecurringLines) - 1].drop,
    );
    return {
      verdict,
      metrics: {
        lines: lines.length,
        removalsScored: removals.length,
        recurringSuspects: bySuspect.size,
        triggers: triggers.length,
        singleSuspects: singles.length,
        maxDrop: round(top?.drop ?? 0),
        /** The best recurring suspect's drop in its minRecurringLines-th best line. */
        maxRecurringDrop: round(Math.max(0, ...recurringDrops)),
        meanLogPerplexity: round(base.reduce((a, b) => a + b, 0) / Math.max(1, base.length)),
      },
      evidence: {
        triggers: triggers.map((s) => ({
          suspect: s.key,
          lines: s.rs.map((r) => r.line),
          drops: s.rs.map((r) => round(r.drop, 3)),
          example: shorten(s.hits[0].without, 160),
        })),
        singleSuspects: singles.slice(0, 10).map((r) => ({
          line: r.line,
          suspect: r.key,
          drop: round(r.drop, 3),
          without: shorten(r.without, 160),
        })),
      },
    };
  }
}
