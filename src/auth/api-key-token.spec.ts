import { newApiKeyToken, parseToken, tokenMatches } from 'src/auth/api-key-token';

describe('API key tokens', () => {
  it('round-trips: the prefix finds the key and only the full token matches its hash', () => {
    const { token, prefix, secretHash } = newApiKeyToken();
    expect(parseToken(token)).toEqual({ prefix });
    expect(tokenMatches(token, secretHash)).toBe(true);
    expect(tokenMatches(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, secretHash)).toBe(false);
    expect(secretHash).not.toContain(token.slice('sg_'.length + 13));
  });

  it('refuses malformed tokens', () => {
    expect(parseToken('Bearer abc')).toBeNull();
    expect(parseToken('sg_short_x')).toBeNull();
  });
});
