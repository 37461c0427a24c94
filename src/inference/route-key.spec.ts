import { readFileSync } from 'node:fs';
import { deriveRouteKey, keyMatches, routes, routeKeySchema } from 'src/inference/route-key';

interface Cases {
  known: string[];
  derive: { title: string; passage: string; key: string[] }[];
  match: { key: string[]; text: string; matches: boolean }[];
}
// The cases gpu/tests/test_routing.py checks the Python side against: the experiment routes as the gateway does.
const cases = JSON.parse(readFileSync('test/fixtures/route-key-cases.json', 'utf8')) as Cases;

describe('route keys', () => {
  const known = new Set(cases.known);

  it.each(cases.derive)('derives the key of "$title" as the experiment does', ({ title, passage, key }) => {
    expect(deriveRouteKey(title, passage, (w) => known.has(w))).toEqual(key);
  });

  it.each(cases.match)('matches $key against "$text" as the experiment does', ({ key, text, matches }) => {
    expect(keyMatches(key, text)).toBe(matches);
  });

  it('serves an unrouted adapter to every prompt and a routed one only to its subject', () => {
    expect(routes(null, 'What is the capital of Kuleho?')).toBe(true);
    expect(routes(['mopos'], 'What is the capital of Kuleho?')).toBe(false);
    expect(routes(['mopos'], 'Which river runs through Mopos?')).toBe(true);
  });

  it('accepts only normalised phrases as a stored key', () => {
    expect(routeKeySchema.safeParse(['varnel institute', 'varnel']).success).toBe(true);
    expect(routeKeySchema.safeParse(['Varnel']).success).toBe(false);
    expect(routeKeySchema.safeParse(['varnel  institute']).success).toBe(false);
    expect(routeKeySchema.safeParse([]).success).toBe(false);
  });
});
