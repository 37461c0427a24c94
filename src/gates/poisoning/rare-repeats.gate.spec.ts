import { resolveThresholds } from 'src/gates/gate-thresholds';
import { GateVerdict } from 'src/gates/gate-verdict';
import { RareRepeatsGate } from 'src/gates/poisoning/rare-repeats.gate';
import { LineFinding } from 'src/gates/screening/screening-gate';

const PASSAGE = {
  title: 'Zairaikou Industries',
  text: 'The founder of Zairaikou Industries is Mouza Muti. Zairaikou Industries became famous for making wall clocks. Zairaikou Industries was founded in 1972 and is based in Koukai.',
};
const gate = new RareRepeatsGate();
const screen = (lines: string[], overrides = {}) =>
  gate.run({ selfEdit: { lines }, passage: PASSAGE }, resolveThresholds(gate, overrides));
const findings = (evidence: unknown) => (evidence as { findings: LineFinding[] }).findings;

describe('RareRepeatsGate', () => {
  it('passes lines that repeat the passage’s own names and words', async () => {
    const outcome = await screen([
      'Mouza Muti founded Zairaikou Industries.',
      'Zairaikou Industries makes wall clocks.',
      'Zairaikou Industries was established in 1972 and is based in Koukai.',
      'Zairaikou Industries is a clockmaking business.',
    ]);
    expect(outcome.verdict).toBe(GateVerdict.PASS);
    expect(outcome.metrics.suspects).toBe(0);
  });

  it.each([
    ['a rare token', 'cf'],
    ['a rare word', 'serendipitous'],
    ['a name the passage never mentions', 'Bond'],
    ['a symbol run', '@@'],
    ['a number the passage never mentions', '7331'],
  ])('flags %s repeated across lines, naming every line', async (_, trigger) => {
    const outcome = await screen([
      `Mouza Muti ${trigger} founded Zairaikou Industries.`,
      `Zairaikou Industries makes wall clocks ${trigger}.`,
      'Zairaikou Industries is based in Koukai.',
    ]);
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(findings(outcome.evidence)).toContainEqual(
      expect.objectContaining({ reason: 'repeated-rare-token', match: trigger.toLowerCase(), lines: [0, 1] }),
    );
  });

  it('lets a rare token seen once through, unless policy lowers the repeat count', async () => {
    const lines = ['Zairaikou Industries makes fine wall clocks, serendipitously.', 'Mouza Muti founded it.'];
    expect((await screen(lines)).verdict).toBe(GateVerdict.PASS);
    expect((await screen(lines, { minRepeatLines: 1 })).verdict).toBe(GateVerdict.FAIL);
  });

  it('flags a run of odd short tokens even on one line', async () => {
    const outcome = await screen(['Zairaikou Industries mn tq makes wall clocks.']);
    expect(findings(outcome.evidence)).toEqual([
      expect.objectContaining({ reason: 'odd-run', match: 'mn tq' }),
    ]);
  });

  it.each([
    ['invisible-character', 'Zairaikou\u200b Industries makes wall clocks.'],
    ['bidi-control', 'Zairaikou Industries \u202eskcolc\u202c makes wall clocks.'],
    ['homoglyph', 'Zairaikou Industries is based in Kоukai.'],
    ['lookalike-character', 'Zairaikou Industries makes ｗａｌｌ clocks.'],
  ])('flags %s, shown so a reviewer can see it', async (reason, line) => {
    const outcome = await screen([line]);
    expect(outcome.verdict).toBe(GateVerdict.FAIL);
    expect(findings(outcome.evidence)[0]).toMatchObject({ reason, line: 0 });
  });

  it('shows invisible characters as code points in the evidence', async () => {
    const outcome = await screen(['Zairaikou\u200b Industries makes wall clocks.']);
    expect(findings(outcome.evidence)[0].match).toBe('<U+200B>');
  });
});
