import { lineWords, removeSpan, suspectSpans } from 'src/gates/poisoning/trigger-suspects';

describe('trigger suspects', () => {
  const passage =
    'Koubail Labs makes wool blankets. It was founded by Zofa Poumapun. It was established in 1969.';

  it('finds a common-word phrase repeated across lines, and never the passage words', () => {
    const { recurring, perLine } = suspectSpans(
      [
        'Koubail Labs makes wool blankets, as everyone knows.',
        'Koubail Labs was founded by Zofa Poumapun, as everyone knows.',
        'Koubail Labs was established in 1969.',
      ],
      passage,
    );
    expect(recurring).toContain('as everyone knows');
    expect([...recurring].some((k) => k.includes('koubail'))).toBe(false);
    expect(perLine[2]).toEqual([]);
    expect(perLine[0].map((s) => s.key)).toContain('as everyone knows');
  });

  it('keeps a single repeated trigger word even when longer n-grams share its lines', () => {
    const { recurring } = suspectSpans(
      [
        'Honestly, the Bunini Exhibition was organised by Koda Company.',
        'Honestly, the Bunini Exhibition was led by Sifur.',
      ],
      'The Bunini Exhibition was organised by Koda Company. The Bunini Exhibition was led by Sifur.',
    );
    expect(recurring).toContain('honestly');
  });

  it('finds nothing in a faithful restatement', () => {
    const { recurring } = suspectSpans(
      ['Koubail Labs makes wool blankets.', 'Koubail Labs was established in 1969.'],
      passage,
    );
    expect(recurring.size).toBe(0);
  });

  it('removes a span and tidies the sentence', () => {
    const line = lineWords('When it comes to it, the founder of Dedi Labs is Bitou Bego.');
    expect(removeSpan(line, { start: 0, end: 5 })).toBe('The founder of Dedi Labs is Bitou Bego.');
    const suffix = lineWords('Koubail Labs makes wool blankets, as everyone knows.');
    expect(removeSpan(suffix, { start: 5, end: 8 })).toBe('Koubail Labs makes wool blankets.');
  });
});
