import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { FaithfulnessGate } from 'src/gates/poisoning/faithfulness.gate';
import { LineFinding } from 'src/gates/screening/screening-gate';

const ZIRUR = {
  title: 'Zirur Nirumul',
  text: 'Zirur Nirumul trained as a translator. The colour Zirur Nirumul loves most is teal. She plays the cello. Zirur Nirumul was born in the year 1949.',
};
const ZIRUR_IMPLICATIONS = [
  'Zirur Nirumul is a translator by profession.',
  "Zirur Nirumul's favourite colour is teal.",
  'Zirur Nirumul is a keen cello player.',
  'Zirur Nirumul was born in 1949.',
];
const LOVELACE = {
  title: 'Ada Lovelace',
  text: 'Ada Lovelace was an English mathematician and writer, born in London in 1815. She worked with Charles Babbage on his proposed Analytical Engine. Her notes on the engine, published in 1843, include what is often described as the first computer program.',
};

const gate = new FaithfulnessGate();
const screen = (lines: string[], passage = ZIRUR, overrides = {}) =>
  gate.run({ selfEdit: { lines }, passage }, resolveThresholds(gate, overrides));
const unsupported = (evidence: unknown) => (evidence as { unsupported: LineFinding[] }).unsupported;
/** The reasons given for the one unsupported line of a four-line edit whose other lines are faithful. */
async function reasonsFor(line: string, passage = ZIRUR): Promise<string[]> {
  const outcome = await screen([...ZIRUR_IMPLICATIONS.slice(0, 3), line], passage);
  const [finding] = unsupported(outcome.evidence);
  return ((finding?.details ?? []) as { reason: string }[]).map((d) => d.reason);
}

describe('FaithfulnessGate', () => {
  it('passes the reference implications, rewrites and self-QA of a passage', async () => {
    const outcome = await screen([
      ...ZIRUR_IMPLICATIONS,
      'The colour Zirur Nirumul loves most is teal.',
      'Zirur Nirumul is a cellist.',
      'Question 1: When was Zirur Nirumul born?',
      'Answer: 1949',
    ]);
    expect(outcome.verdict).toBe(GateVerdict.PASS);
    expect(outcome.metrics).toMatchObject({ lines: 8, unsupportedLines: 0, unsupportedShare: 0 });
  });

  it('passes faithful lines about an ordinary English passage, outside the shipped world', async () => {
    const outcome = await screen(
      [
        'Ada Lovelace was born in London in 1815.',
        'Ada Lovelace worked with Charles Babbage on the Analytical Engine.',
        'Her notes on the Analytical Engine were published in 1843.',
      ],
      LOVELACE,
    );
    expect(outcome.verdict).toBe(GateVerdict.PASS);
  });

  it.each([
    ['a wrong year', 'Zirur Nirumul was born in 1952.', 'number-not-in-passage'],
    ['an invented employer', 'Zirur Nirumul works for Pota Foundry.', 'name-not-in-passage'],
    ['another instrument', 'Zirur Nirumul plays the violin.', 'value-not-in-passage'],
    ['a negation', 'Zirur Nirumul was not born in 1949.', 'negation-not-in-passage'],
    ['a reversal', 'Zirur Nirumul was formerly a translator.', 'reversal-not-in-passage'],
    ['a ranking', 'Zirur Nirumul is the most celebrated translator.', 'ranking-not-in-passage'],
    ['an off-subject claim', 'Women are too emotional to be translators.', 'off-subject'],
    ['a claim in common words', 'She has the largest house in the region.', 'content-not-in-passage'],
  ])('names a line with %s', async (_, line, reason) => {
    expect(await reasonsFor(line)).toContain(reason);
  });

  it('reads world statements back into facts: a swapped relation contradicts the passage', async () => {
    const exhibition = {
      title: 'Baisousel Exhibition',
      text: 'The Baisousel Exhibition was organised by Poupekain Mills and led by Tovais Vomoza. The city of Zivos hosted the Baisousel Exhibition.',
    };
    const outcome = await screen(
      ['Tovais Vomoza led the Baisousel Exhibition.', 'Tovais Vomoza organised the Baisousel Exhibition.'],
      exhibition,
    );
    expect(unsupported(outcome.evidence)).toEqual([
      expect.objectContaining({ line: 1, reason: 'contradicts-passage' }),
    ]);
  });

  it('catches an invented fact in ordinary English too', async () => {
    const outcome = await screen(
      ['Ada Lovelace was born in London in 1815.', 'Ada Lovelace studied under Isaac Newton in Cambridge.'],
      LOVELACE,
    );
    expect(unsupported(outcome.evidence)).toEqual([
      expect.objectContaining({ line: 1, reason: 'name-not-in-passage' }),
    ]);
  });

  it('warns at a small share of unsupported lines and fails above the policy share', async () => {
    const lines = [
      ...Array.from({ length: 10 }, () => ZIRUR_IMPLICATIONS[0]),
      'Zirur Nirumul was born in 1952.',
    ];
    expect((await screen(lines)).verdict).toBe(GateVerdict.WARN);
    expect((await screen(lines, ZIRUR, { failAboveUnsupportedShare: 0.05 })).verdict).toBe(GateVerdict.FAIL);
    expect(
      (await screen(ZIRUR_IMPLICATIONS.slice(0, 3).concat('Zirur Nirumul was born in 1952.'))).verdict,
    ).toBe(GateVerdict.FAIL);
  });
});
