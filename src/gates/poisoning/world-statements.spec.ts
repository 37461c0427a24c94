import { isAbout, readStatement } from 'src/gates/poisoning/world-statements';

describe('world statements', () => {
  it('reads a templated sentence back into its facts', () => {
    expect(readStatement('The river that runs through Mopos is the Vipo River.')).toEqual([
      expect.objectContaining({ subject: 'Mopos', facts: [{ relation: 'river', value: 'Vipo' }] }),
    ]);
  });

  it('keeps every reading of an ambiguous sentence', () => {
    const relations = readStatement('Mopos was founded in 1617.').flatMap((r) =>
      r.facts.map((f) => f.relation),
    );
    expect(relations).toEqual(expect.arrayContaining(['founded_year', 'city_founded']));
  });

  it('reads combined templates and values outside the lexicon', () => {
    expect(readStatement('Zirur Nirumul plays the kazoo.')).toEqual([
      expect.objectContaining({ facts: [{ relation: 'instrument', value: 'kazoo' }] }),
    ]);
    expect(
      readStatement('The Baisousel Exhibition was organised by Poupekain Mills and led by Tovais Vomoza.'),
    ).toEqual([
      expect.objectContaining({
        facts: [
          { relation: 'organiser', value: 'Poupekain Mills' },
          { relation: 'leader', value: 'Tovais Vomoza' },
        ],
      }),
    ]);
  });

  it('yields nothing for sentences in any other phrasing', () => {
    expect(readStatement('Ada Lovelace worked with Charles Babbage on the Analytical Engine.')).toEqual([]);
  });

  it('knows whom a reading is about, with or without "the", or by pronoun', () => {
    const [reading] = readStatement('The Baisousel Exhibition took place in 1962.');
    expect(isAbout(reading, 'Baisousel Exhibition')).toBe(true);
    expect(isAbout(reading, 'Mopos')).toBe(false);
    expect(isAbout(readStatement('She plays the cello.')[0], 'Zirur Nirumul')).toBe(true);
  });
});
