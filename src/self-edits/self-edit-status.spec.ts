import {
  allowedTransitions,
  canTransition,
  isTerminal,
  SelfEditStatus as S,
} from 'src/self-edits/self-edit-status';

/** The gated path every applied edit must have taken, in order. */
const GATED_PATH = [S.SCREENING, S.TRAINING, S.EVALUATING, S.AWAITING_APPROVAL, S.APPROVED, S.APPLIED];

describe('self-edit lifecycle', () => {
  it('allows the gated path and refuses shortcuts', () => {
    let at = S.PROPOSED;
    for (const next of GATED_PATH) {
      expect(canTransition(at, next)).toBe(true);
      at = next;
    }
    expect(canTransition(S.PROPOSED, S.APPLIED)).toBe(false);
    expect(canTransition(S.SCREENING, S.AWAITING_APPROVAL)).toBe(false);
    expect(canTransition(S.FAILED, S.TRAINING)).toBe(false);
    expect(canTransition(S.REJECTED, S.APPROVED)).toBe(false);
  });

  it('ends only in the terminal states', () => {
    expect(Object.values(S).filter(isTerminal).sort()).toEqual(
      [S.ROLLED_BACK, S.REJECTED_BY_GATE, S.REJECTED, S.EXPIRED].sort(),
    );
  });

  it('never reaches APPLIED in a random walk without passing every gate since its last (re)start', () => {
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let walk = 0; walk < 2000; walk++) {
      let at = S.PROPOSED;
      let sinceStart: S[] = [];
      for (let step = 0; step < 30 && !isTerminal(at); step++) {
        const options: readonly S[] = allowedTransitions[at];
        at = options[Math.floor(random() * options.length)];
        sinceStart = at === S.PROPOSED ? [] : [...sinceStart, at];
        if (at === S.APPLIED) expect(sinceStart).toEqual(GATED_PATH);
      }
    }
  });
});
