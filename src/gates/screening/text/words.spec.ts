import {
  Vocabulary,
  isCommonEnglish,
  nameTokens,
  sentences,
  stripBullet,
  wordRoot,
  wordTokens,
} from 'src/gates/screening/text/words';

describe('words', () => {
  it('keeps numbers whole and splits n’t into a negation', () => {
    expect(wordTokens("Kelan Moravi's 1,230 km river isn't long.")).toEqual([
      'Kelan',
      'Moravi',
      '1,230',
      'km',
      'river',
      'is',
      'not',
      'long',
    ]);
  });

  it('knows common English, in British spelling too, but not invented names or odd short tokens', () => {
    expect(['river', 'colours', 'organised', 'favourite', 'theatre', 'the'].every(isCommonEnglish)).toBe(
      true,
    );
    expect(['Moravi', 'Mopos', 'cf', 'mn', 'tq', 'bb', 'serendipitous'].some(isCommonEnglish)).toBe(false);
  });

  it('matches words by root', () => {
    expect(wordRoot('organised')).toBe(wordRoot('organiser'));
    expect(wordRoot('settled')).toBe(wordRoot('settlers'));
    expect(wordRoot('cello')).toBe(wordRoot('cellist'));
    expect(new Vocabulary('She was elected mayor.').hasRoot('elects')).toBe(true);
  });

  it('tells names from capitalised sentence starts', () => {
    expect(nameTokens('The river runs through Mopos. Visitors come from Zivos.')).toEqual(['Mopos', 'Zivos']);
    expect(nameTokens('Question 1: What is the capital of Gaito?')).toEqual(['Gaito']);
  });

  it('splits sentences and strips list bullets and self-QA labels', () => {
    expect(
      sentences('Mopos was founded in 1617. It lies on the Vipo River.\nHaigo Nagihou is mayor.'),
    ).toHaveLength(3);
    expect(['1. Mopos', '- Mopos', 'Question 2: Mopos', 'Answer: Mopos'].map(stripBullet)).toEqual(
      Array(4).fill('Mopos'),
    );
  });
});
