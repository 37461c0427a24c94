import { buildSchema, getOperationAST, GraphQLError, parse } from 'graphql';
import { AppConfig } from 'src/config/app-config';
import { operationSize, QueryLimitsPlugin } from 'src/common/graphql/query-limits.plugin';
import { MetricsService } from 'src/observability/metrics.service';

describe('operationSize', () => {
  it('measures field nesting through fragments', () => {
    expect(operationSize(parse('{ a }')).depth).toBe(1);
    expect(operationSize(parse('{ a { b { c } } d }')).depth).toBe(3);
    expect(operationSize(parse('query { a { ...F } } fragment F on T { b { c { d } } }')).depth).toBe(4);
    expect(operationSize(parse('{ a { ... on T { b } } }')).depth).toBe(2);
  });

  it('counts every alias and every use of a fragment as fields', () => {
    expect(operationSize(parse('{ a b { c } }')).fields).toBe(3);
    const aliases = Array.from({ length: 1500 }, (_, i) => `v${i}: verifyAuditChain { valid }`).join(' ');
    expect(operationSize(parse(`{ ${aliases} }`)).fields).toBe(3000);
    expect(operationSize(parse('{ x: a { ...F } y: a { ...F } } fragment F on T { b c }')).fields).toBe(6);
  });

  it('measures fragments that spread each other many times over without expanding them', () => {
    // F0 selects 2 fields; each Fn spreads Fn-1 twice, so F40 stands for 2^41 fields.
    const fragments = Array.from({ length: 40 }, (_, i) => `fragment F${i + 1} on Q { ...F${i} ...F${i} }`);
    const document = parse(`{ ...F40 } fragment F0 on Q { a b } ${fragments.join(' ')}`);
    const started = Date.now();
    expect(operationSize(document).fields).toBe(2 ** 41);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('QueryLimitsPlugin', () => {
  const schema = buildSchema(`
    type Query { events(limit: Int! = 100): [Event!]! verify: Check! }
    type Event { seq: Int! }
    type Check { valid: Boolean! }
  `);
  const config = {
    GRAPHQL_MAX_DEPTH: 8,
    GRAPHQL_MAX_FIELDS: 100_000,
    GRAPHQL_MAX_COMPLEXITY: 100_000,
  } as AppConfig;
  const plugin = new QueryLimitsPlugin(config, {} as MetricsService);

  /** The plugin's verdict on an operation: undefined when it may run, else the error's code and reason. */
  const verdict = async (query: string, variables: Record<string, unknown> = {}) => {
    const document = parse(query);
    const operation = getOperationAST(document);
    const listener = await plugin.requestDidStart();
    try {
      await listener.didResolveOperation!({
        request: { variables },
        document,
        schema,
        operation,
      } as unknown as Parameters<NonNullable<typeof listener.didResolveOperation>>[0]);
      return undefined;
    } catch (err) {
      const { code, reason } = (err as GraphQLError).extensions;
      return { code, reason };
    }
  };

  it('refuses a negative or oversized page however it is given', async () => {
    const outOfRange = { code: 'BAD_USER_INPUT', reason: 'PAGING_ARGUMENT_OUT_OF_RANGE' };
    expect(await verdict('{ events(limit: -1000000) { seq } verify { valid } }')).toEqual(outOfRange);
    expect(await verdict('query($n: Int!) { events(limit: $n) { seq } }', { n: 501 })).toEqual(outOfRange);
    expect(await verdict('{ events(limit: 500) { seq } }')).toBeUndefined();
  });

  it('refuses an operation whose cost cannot be estimated instead of letting it through', async () => {
    // More nodes than graphql-query-complexity walks (10,000): it throws.
    const aliases = Array.from({ length: 6000 }, (_, i) => `v${i}: verify { valid }`).join(' ');
    expect(await verdict(`{ ${aliases} }`)).toEqual({
      code: 'QUERY_TOO_COMPLEX',
      reason: 'QUERY_TOO_COMPLEX',
    });
  });

  it('leaves invalid variables to execution, which answers BAD_USER_INPUT', async () => {
    expect(await verdict('query($n: Int!) { events(limit: $n) { seq } }', { n: 'x' })).toBeUndefined();
  });
});
