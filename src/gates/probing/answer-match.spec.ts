import { answerMatches, normaliseAnswer } from 'src/gates/probing/answer-match';

describe('answer matching', () => {
  it('normalises case, punctuation, articles and spaces', () => {
    expect(normaliseAnswer('  The Vipo   River. ')).toBe('vipo river');
    expect(normaliseAnswer('An engineer!')).toBe('engineer');
  });

  it('matches the answer or an alias on the first line only', () => {
    expect(answerMatches(' Vipo River\nQuestion: ...', 'Vipo River')).toBe(true);
    expect(answerMatches('the Vipo', 'Vipo River', ['the Vipo River', 'Vipo'])).toBe(true);
    expect(answerMatches('Vipo Lake', 'Vipo River', ['Vipo'])).toBe(false);
    expect(answerMatches('', '1867')).toBe(false);
  });
});
