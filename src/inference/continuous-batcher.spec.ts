import { withheld } from 'src/inference/continuous-batcher';

describe('withheld (what a stream may send before generation ends)', () => {
  it('sends everything when no stop string could be starting', () => {
    expect(withheld('Tamsin Orrel', ['\n'])).toBe('Tamsin Orrel');
    expect(withheld('Tamsin Orrel', [])).toBe('Tamsin Orrel');
  });

  it('holds back an ending that may grow into a stop string', () => {
    expect(withheld('Paris. Ques', ['Question:'])).toBe('Paris. ');
    expect(withheld('Paris. Q', ['Question:', 'END'])).toBe('Paris. ');
    expect(withheld('Paris. E', ['Question:', 'END'])).toBe('Paris. ');
  });

  it('holds back an incomplete multi-byte character', () => {
    expect(withheld('caf\uFFFD', [])).toBe('caf');
  });
});
