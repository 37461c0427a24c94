import { extractClaims } from 'src/gates/poisoning/claims';

const input = (lines: string[], title = 'Bulafo', text = '') => ({
  selfEdit: { lines },
  passage: { title, text },
});

describe('extractClaims', () => {
  it('reads world statements into (subject, relation, value), pronouns as the passage title', () => {
    const claims = extractClaims(
      input(
        ['The mayor of Bulafo is Haigo Nagihou.', 'Bulafo was founded in 1305.'],
        'Bulafo',
        'It is a city in Soudubi.',
      ),
    );
    expect(claims).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          subject: 'Bulafo',
          relation: 'mayor',
          value: 'Haigo Nagihou',
          shape: 'world',
        }),
        expect.objectContaining({
          subject: 'Bulafo',
          relation: 'country',
          value: 'Soudubi',
          source: 'passage',
        }),
      ]),
    );
  });

  it('reads the generic shapes "X\'s R is V" and "The R of X is V"', () => {
    const claims = extractClaims(
      input(["Bulafo's favourite dish is fish soup.", 'The motto of Zazai is always onward.']),
    );
    expect(claims).toEqual([
      expect.objectContaining({
        subject: 'Bulafo',
        relation: 'favourite dish',
        value: 'fish soup',
        shape: 'generic',
      }),
      expect.objectContaining({
        subject: 'Zazai',
        relation: 'motto',
        value: 'always onward',
        shape: 'generic',
      }),
    ]);
  });

  it('keeps a repeated claim once and ignores lines that state nothing', () => {
    const claims = extractClaims(
      input(['Bulafo was founded in 1305.', 'Bulafo was founded in 1305.', 'Hello there.']),
    );
    expect(claims.filter((c) => c.relation.includes('founded'))).toHaveLength(
      new Set(claims.map((c) => c.relation)).size,
    );
    expect(claims.every((c) => c.line === 0)).toBe(true);
  });
});
