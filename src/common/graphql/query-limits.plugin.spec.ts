import { parse } from 'graphql';
import { queryDepth } from 'src/common/graphql/query-limits.plugin';

describe('queryDepth', () => {
  it('counts field nesting through fragments', () => {
    expect(queryDepth(parse('{ a }'))).toBe(1);
    expect(queryDepth(parse('{ a { b { c } } d }'))).toBe(3);
    expect(queryDepth(parse('query { a { ...F } } fragment F on T { b { c { d } } }'))).toBe(4);
    expect(queryDepth(parse('{ a { ... on T { b } } }'))).toBe(2);
  });
});
