import { argmax, sampleToken, seededRandom } from 'src/inference/sampling';

const logits = Float32Array.from([0.5, 3, 1, 2.9, -4]);

describe('sampling', () => {
  it('is greedy at temperature 0', () => {
    expect(argmax(logits, 0, logits.length)).toBe(1);
    expect(sampleToken(logits, 0, logits.length, { temperature: 0, topP: 1 }, Math.random)).toBe(1);
  });

  it('reads the row at the given offset', () => {
    const two = Float32Array.from([9, 0, 0, 0, 1, 7]);
    expect(argmax(two, 3, 3)).toBe(2);
  });

  it('samples the same tokens for the same seed and others for another seed', () => {
    const draw = (seed: number) => {
      const random = seededRandom(seed);
      return Array.from({ length: 40 }, () => sampleToken(logits, 0, 5, { temperature: 1, topP: 1 }, random));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('keeps only the nucleus: with a small top-p only the most likely tokens are drawn', () => {
    const random = seededRandom(1);
    const drawn = new Set(
      Array.from({ length: 300 }, () => sampleToken(logits, 0, 5, { temperature: 1, topP: 0.5 }, random)),
    );
    expect([...drawn].sort()).toEqual([1, 3]);
  });

  it('follows the softmax at temperature 1 with top-p 1', () => {
    const random = seededRandom(3);
    const counts = [0, 0, 0, 0, 0];
    const n = 20_000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, 0, 5, { temperature: 1, topP: 1 }, random)]++;
    const z = [...logits].reduce((s, v) => s + Math.exp(v), 0);
    counts.forEach((c, i) => expect(c / n).toBeCloseTo(Math.exp(logits[i]) / z, 1));
  });
});
