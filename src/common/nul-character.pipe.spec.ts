import { CommonError } from 'src/common/errors/domain-error';
import { nulCharacterAt, NulCharacterPipe } from 'src/common/nul-character.pipe';

describe('NulCharacterPipe', () => {
  const pipe = new NulCharacterPipe();

  it('names where a string holds U+0000, in an argument or a body', () => {
    expect(nulCharacterAt({ input: { passage: 'ok', questions: [{ answer: 'a\u0000b' }] } })).toBe(
      'input.questions.0.answer',
    );
    expect(nulCharacterAt('a\u0000', 'name')).toBe('name');
    expect(nulCharacterAt({ model: '\u0000', prompt: ['ok', 'b\u0000'] })).toBe('model');
    expect(nulCharacterAt({ model: 'm', prompt: ['ok', 'b\u0000'] })).toBe('prompt.1');
    expect(nulCharacterAt({ ['k\u0000']: 1 }, 'body')).toBe('body');
    expect(nulCharacterAt({ messages: [{ content: 'fine' }], model: 'prod' })).toBeUndefined();
  });

  it('refuses such a value as BAD_USER_INPUT, reason NUL_CHARACTER', () => {
    const refused = (() => {
      try {
        pipe.transform({ model: '\u0000' }, { type: 'body' });
      } catch (err) {
        return err as CommonError;
      }
    })();
    expect(refused).toBeInstanceOf(CommonError);
    expect([refused!.kind, refused!.code, refused!.message]).toEqual([
      'BAD_USER_INPUT',
      'NUL_CHARACTER',
      'model: text may not contain the NUL character (U+0000)',
    ]);
    expect(refused!.details).toEqual({ param: 'model' });
    expect(() => pipe.transform('a\u0000b', { type: 'query', data: 'name' })).toThrow(/^name: /);
  });

  it('lets other values and custom parameters through unchanged', () => {
    const value = { prompt: 'hello', n: 2, stop: ['\n'] };
    expect(pipe.transform(value, { type: 'body' })).toBe(value);
    const auth = { token: 'a\u0000' };
    expect(pipe.transform(auth, { type: 'custom' })).toBe(auth);
    // GraphQL: arguments (3) are checked, the context (1) is not
    expect(() => pipe.transform({ name: 'a\u0000' }, { type: 3 as never })).toThrow(/^name: /);
    expect(pipe.transform(auth, { type: 1 as never })).toBe(auth);
  });

  it('walks a deeply nested body without overflowing the stack', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(nulCharacterAt(deep)?.split('.').length).toBe(200_000);
  });
});
