import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import {
  getNamedType,
  GraphQLField,
  GraphQLInputType,
  GraphQLObjectType,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isRequiredArgument,
  isScalarType,
} from 'graphql';
import { startApp, StartedApp } from 'src/app/bootstrap';
import { systemActor } from 'src/common/actor';
import { PrincipalsService } from 'src/auth/principals.service';
import { Role } from 'src/auth/role';
import { ModelService } from 'src/inference/model.service';
import { freshPostgresSchema, freshSqliteFile, TestEnv } from 'test/support/databases';
import { testConfig } from 'test/support/test-app';

/**
 * Issue 17's fuzz item: random and malformed requests over every Query, Mutation and Subscription field of the
 * live schema (arguments of the right type and of wrong ones) and over the OpenAI-compatible /v1 routes (random
 * and malformed bodies, content types, JSON, numbers, models). Every answer must be below 500, never
 * INTERNAL_SERVER_ERROR in a GraphQL body, and carry no server path, stack frame or SQL.
 *
 * Subscriptions are also opened over graphql-ws. `npm test` runs the defaults below; `npm run test:fuzz` runs
 * FUZZ_RUNS (20,000) cases per property. FUZZ_SEED replays a failure fast-check reported; FUZZ_COLLECT=1 goes on
 * past failures and lists each distinct one at the end (the test still fails); FUZZ_STATS=1 (or `messages`)
 * prints how the answers fell out; FUZZ_LOG_LEVEL shows the gateway's log; FUZZ_DB=sqlite runs on SQLite. The
 * gateway runs in `api` mode, so the edits and rounds the fuzz proposes wait in their queue instead of training.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 0) || undefined;
const GRAPHQL_RUNS = RUNS ?? 1200;
const OPENAI_RUNS = RUNS ?? 800;
/** Subscriptions over graphql-ws: each case opens its own socket and waits for a first answer, so fewer. */
const SOCKET_RUNS = RUNS === undefined ? 100 : Math.ceil(RUNS / 10);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
/** Time for one property: generous per case, since a case may generate text. */
const timeoutFor = (runs: number) => 60_000 + runs * 200;

// ---------------------------------------------------------------- what an answer must never carry

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LEAKS: [string, RegExp][] = [
  ['the checkout path', new RegExp(escapeRegExp(process.cwd()))],
  [
    'a server path',
    /\/tmp\/|\/root\b|\/home\/|\/usr\/|\/var\/|node_modules|\/src\/[\w/-]+\.[tj]s\b|\.ts:\d+/,
  ],
  ['a stack frame', /\n\s+at \S|\\n\s+at \S|^\s+at \S.*:\d+:\d+/m],
  ['a traceback', /Traceback|stacktrace/i],
  [
    'SQL',
    /\bSELECT\s|INSERT INTO|\bUPDATE\s+"?\w+"?\s+SET\b|DELETE FROM|QueryFailedError|EntityNotFound|SQLITE_|duplicate key|violates (?:foreign key|unique|not-null|check)|invalid input syntax|out of range for type|relation "|column "/i,
  ],
];
const INTERNAL = /INTERNAL_SERVER_ERROR|Internal error; quote correlation id|"server_error"/;

/** What is wrong with an answer, if anything; text the request itself carried does not count as a leak. */
function problemsOf(status: number, text: string, sent: string): string[] {
  const problems: string[] = [];
  if (status >= 500) problems.push(`status ${status}`);
  if (INTERNAL.test(text)) problems.push('an internal error');
  for (const [what, pattern] of LEAKS) {
    const global = new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`);
    for (const match of text.matchAll(global)) {
      if (!sent.includes(match[0])) {
        problems.push(`${what}: ${JSON.stringify(match[0])}`);
        break;
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------- request bodies with raw JSON

/** A JSON token JSON.stringify cannot write (1e999, a 30-digit integer): spliced into the body as is. */
class RawJson {
  constructor(readonly text: string) {}
}
/** An enum value: a bare name in a GraphQL literal, a string in variables. */
class EnumValue {
  constructor(readonly name: string) {}
}

function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof RawJson) {
      raws.push(v.text);
      return `\u0001raw${raws.length - 1}\u0001`;
    }
    if (v instanceof EnumValue) return v.name;
    return v;
  });
  return (text ?? 'null').replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)]);
}

/** A value as a GraphQL literal (inline arguments). */
function toLiteral(value: unknown, depth = 0): string {
  if (depth > 200) return 'null';
  if (value === null || value === undefined) return 'null';
  if (value instanceof RawJson) return value.text;
  if (value instanceof EnumValue) return /^[_A-Za-z][_0-9A-Za-z]*$/.test(value.name) ? value.name : 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => toLiteral(v, depth + 1)).join(', ')}]`;
  const fields = Object.entries(value as Record<string, unknown>)
    .filter(([k]) => /^[_A-Za-z][_0-9A-Za-z]*$/.test(k))
    .map(([k, v]) => `${k}: ${toLiteral(v, depth + 1)}`);
  return `{${fields.join(', ')}}`;
}

// ---------------------------------------------------------------- values

/** Known names and ids of the fixture, so some cases reach past "not found". */
interface Known {
  channel: string;
  ids: string[];
}

const overlong = fc.constantFrom(257, 1025, 20_001, 70_000, 300_000).map((n) => 'x'.repeat(n));
const nastyStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u0301',
  '😀👩‍👩‍👧',
  "'; DROP TABLE principals; --",
  "' OR '1'='1",
  '%s%n%x',
  '${jndi:ldap://x}',
  '../../../../etc/passwd',
  'C:\\Windows\\win.ini',
  '<script>alert(1)</script>',
  '{"a":1}',
  'null',
  'NaN',
  '-1',
  '1e309',
  'true',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'default',
  'prod',
);
const strings = (known: Known) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.lorem({ maxCount: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
    { weight: 3, arbitrary: nastyStrings },
    { weight: 3, arbitrary: fc.constant(known.channel) },
    { weight: 1, arbitrary: overlong },
  );
const ids = (known: Known) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...known.ids) },
    { weight: 2, arbitrary: fc.uuid() },
    { weight: 2, arbitrary: strings(known) },
    { weight: 1, arbitrary: fc.integer() },
  );
const ints = fc.oneof(
  fc.integer({ min: -10, max: 600 }),
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2, 2 ** 31 - 1, -(2 ** 31)),
);
const floats = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -10, max: 1000 }),
  fc.constantFrom(0, -0, 0.5, 1e308, -1e308, 2 ** 53 + 1, 9.3e18, -9.3e18, 1e-320, 2 ** 63),
);
/** Numbers no JSON encoder writes, but a client can send. */
const rawNumbers = fc
  .constantFrom('1e999', '-1e999', '123456789012345678901234567890', '-0', '1.0e-400', '0.1e1', '1E2')
  .map((t) => new RawJson(t));
const deep = fc.tuple(fc.constantFrom(32, 200, 1000), fc.boolean()).map(([depth, asArray]) => {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
});
/** Anything at all, for an argument of a wrong type. */
const wrongValues = (known: Known): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    { weight: 2, arbitrary: strings(known) },
    { weight: 2, arbitrary: floats },
    { weight: 1, arbitrary: rawNumbers },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}, [null]) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(50_000, 100_000).map((n) => new RawJson(`${'['.repeat(n)}${']'.repeat(n)}`)),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => new EnumValue(`E${s}`)) },
  );

/** Values a well-behaved client sends, so that a share of the cases gets past validation into the resolvers. */
function tameValueOf(type: GraphQLInputType, known: Known, name: string): fc.Arbitrary<unknown> {
  if (isScalarType(type)) {
    const lower = name.toLowerCase();
    switch (type.name) {
      case 'ID':
        return fc.constantFrom(...known.ids);
      case 'Int':
        return fc.integer({ min: lower.includes('size') || lower.includes('seq') ? 0 : 1, max: 8 });
      case 'Float':
        return lower.includes('temperature') || lower.includes('top')
          ? fc.constantFrom(0, 0.5, 1)
          : fc.nat(20);
      case 'Boolean':
        return fc.boolean();
      default:
        if (lower.includes('channel')) return fc.constant(known.channel);
        if (lower.endsWith('id')) return fc.constantFrom(...known.ids);
        return fc.lorem({ maxCount: lower.includes('passage') || lower.includes('content') ? 30 : 4 });
    }
  }
  return fc.constant(null);
}

/** A value of `type`, as the schema declares it (boundary values included), and now and then a wrong one. */
function valueOf(
  type: GraphQLInputType,
  known: Known,
  name: string,
  depth = 0,
  tame = false,
): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return valueOf(type.ofType, known, name, depth, tame);
  if (isListType(type)) {
    return fc.array(valueOf(type.ofType, known, name, depth + 1, tame), {
      maxLength: tame || depth > 1 ? 2 : 6,
    });
  }
  if (tame && isScalarType(type)) return tameValueOf(type, known, name);
  if (isEnumType(type)) {
    return fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...type.getValues().map((v) => new EnumValue(v.name))) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => new EnumValue(`X${s}`)) },
    );
  }
  if (isInputObjectType(type)) {
    if (depth > 3) return fc.constant({});
    const fields = Object.values(type.getFields());
    const required = fields
      .filter((f) => isNonNullType(f.type) && f.defaultValue === undefined)
      .map((f) => f.name);
    if (tame) {
      const tameModel = Object.fromEntries(
        fields.map((f) => [f.name, valueOf(f.type, known, f.name, depth + 1, true)]),
      );
      return fc.record(tameModel, { requiredKeys: required });
    }
    const model = Object.fromEntries(
      fields.map((f) => [
        f.name,
        fc.oneof(
          { weight: 8, arbitrary: valueOf(f.type, known, f.name, depth + 1) },
          { weight: 1, arbitrary: wrongValues(known) },
        ),
      ]),
    );
    return fc.oneof(
      { weight: 8, arbitrary: fc.record(model, { requiredKeys: required }) },
      { weight: 1, arbitrary: fc.record(model, { requiredKeys: [] }) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.record(model, { requiredKeys: required }),
            fc.string({ maxLength: 10 }),
            wrongValues(known),
          )
          .map(([r, k, v]) => ({ ...r, [`unknown${k.replace(/\W/g, '')}`]: v })),
      },
    );
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return ids(known);
      case 'Int':
        return ints;
      case 'Float':
        return floats;
      case 'Boolean':
        return fc.boolean();
      case 'DateTime':
        return fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          strings(known),
          fc.integer(),
        );
      default:
        return name.toLowerCase().endsWith('id') ? ids(known) : strings(known);
    }
  }
  return wrongValues(known);
}

// ---------------------------------------------------------------- GraphQL operations

interface RootField {
  operation: 'query' | 'mutation' | 'subscription';
  field: GraphQLField<unknown, unknown>;
}

function rootFields(schema: GraphQLSchema): RootField[] {
  const of = (operation: RootField['operation'], type: GraphQLObjectType | null | undefined) =>
    Object.values(type?.getFields() ?? {}).map((field) => ({ operation, field }));
  return [
    ...of('query', schema.getQueryType()),
    ...of('mutation', schema.getMutationType()),
    ...of('subscription', schema.getSubscriptionType()),
  ];
}

/** Every leaf field of the result (those without required arguments), and the object fields one level down. */
function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (!isObjectType(type)) return '';
  const leaves = (t: GraphQLObjectType) =>
    Object.values(t.getFields())
      .filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some(isRequiredArgument))
      .map((f) => f.name);
  const nested = Object.values(type.getFields())
    .filter((f) => isObjectType(getNamedType(f.type)) && !f.args.some(isRequiredArgument))
    .map((f) => `${f.name} { __typename ${leaves(getNamedType(f.type) as GraphQLObjectType).join(' ')} }`);
  return `{ __typename ${[...leaves(type), ...nested].join(' ')} }`;
}

type ArgMode = 'right' | 'wrong' | 'omit';
type Token = 'admin' | 'service' | 'none' | 'garbage';

/** One operation, in a form fast-check prints readably: the field by name, each argument by name and type. */
interface GqlCase {
  operation: RootField['operation'];
  field: string;
  style: 'variables' | 'inline';
  args: { name: string; type: string; mode: ArgMode; value: unknown }[];
  token: Token;
  contentType: string | null;
}

const graphqlContentTypes = fc.oneof(
  { weight: 12, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/graphql',
      'application/json; charset=utf-16',
      null,
    ),
  },
);
const tokens = fc.constantFrom<Token>('admin', 'admin', 'service', 'service', 'none', 'garbage');

/** A third of the cases are tame (every argument well-formed, small and known values), the rest wild. */
function gqlCases(roots: RootField[], known: Known): fc.Arbitrary<GqlCase> {
  return fc.tuple(fc.constantFrom(...roots), fc.nat(2)).chain(([{ operation, field }, wildness]) =>
    fc.record({
      operation: fc.constant(operation),
      field: fc.constant(field.name),
      style: fc.constantFrom<GqlCase['style']>('variables', 'variables', 'inline'),
      args: fc.tuple(
        ...field.args.map((arg) =>
          (wildness === 0
            ? fc.constantFrom<ArgMode>('right', 'right', 'omit')
            : fc.constantFrom<ArgMode>('right', 'right', 'right', 'right', 'wrong', 'omit')
          ).chain((mode) =>
            fc.record({
              name: fc.constant(arg.name),
              type: fc.constant(arg.type.toString()),
              mode: fc.constant(mode),
              value:
                mode === 'wrong' ? wrongValues(known) : valueOf(arg.type, known, arg.name, 0, wildness === 0),
            }),
          ),
        ),
      ),
      token: tokens,
      contentType: graphqlContentTypes,
    }),
  );
}

function gqlBody(c: GqlCase, selection: string): string {
  const given = c.args.filter((a) => a.mode !== 'omit');
  if (c.style === 'inline') {
    const args = given.map((a) => `${a.name}: ${toLiteral(a.value)}`).join(', ');
    return toJson({ query: `${c.operation} { ${c.field}${args ? `(${args})` : ''} ${selection} }` });
  }
  const decls = given.map((a, i) => `$v${i}: ${a.type}`).join(', ');
  const args = given.map((a, i) => `${a.name}: $v${i}`).join(', ');
  const query = `${c.operation} Fuzz${decls ? `(${decls})` : ''} { ${c.field}${args ? `(${args})` : ''} ${selection} }`;
  const variables = Object.fromEntries(given.map((a, i) => [`v${i}`, a.value]));
  return toJson({ query, variables, operationName: 'Fuzz' });
}

// ---------------------------------------------------------------- OpenAI-compatible requests

interface OpenAiCase {
  path: string;
  token: Token;
  contentType: string | null;
  body: string;
}

const maybe = <T>(a: fc.Arbitrary<T>, known: Known) =>
  fc.oneof({ weight: 6, arbitrary: a }, { weight: 1, arbitrary: wrongValues(known) });

function openAiCases(known: Known): fc.Arbitrary<OpenAiCase> {
  const models = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(known.channel, 'base', 'default', ...known.ids) },
    { weight: 2, arbitrary: strings(known) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: wrongValues(known) },
  );
  const prompts = fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
    { weight: 2, arbitrary: strings(known) },
    { weight: 2, arbitrary: fc.array(fc.string({ maxLength: 30 }), { maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(3000), 'the '.repeat(5000)) },
  );
  const common = {
    model: models,
    max_tokens: maybe(fc.oneof(fc.integer({ min: 1, max: 8 }), ints, floats, rawNumbers), known),
    temperature: maybe(fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), floats), known),
    top_p: maybe(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), floats), known),
    n: maybe(fc.oneof(fc.integer({ min: 1, max: 4 }), ints), known),
    stop: maybe(
      fc.oneof(fc.string({ maxLength: 70 }), fc.array(fc.string({ maxLength: 70 }), { maxLength: 6 })),
      known,
    ),
    seed: maybe(fc.oneof(fc.nat(), ints, floats), known),
    stream: maybe(fc.boolean(), known),
    stream_options: maybe(fc.record({ include_usage: maybe(fc.boolean(), known) }), known),
    user: maybe(strings(known), known),
    logprobs: wrongValues(known),
    tools: wrongValues(known),
  };
  const optional = Object.keys(common).filter((k) => k !== 'model');
  const completion = fc.record(
    { ...common, prompt: maybe(prompts, known) },
    { requiredKeys: ['model', 'prompt'] },
  );
  const message = fc.record(
    {
      role: maybe(fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'User'), known),
      content: maybe(
        fc.oneof(
          strings(known),
          fc.array(
            fc.record({
              type: maybe(fc.constantFrom('text', 'image_url'), known),
              text: maybe(strings(known), known),
            }),
            { maxLength: 4 },
          ),
        ),
        known,
      ),
      name: maybe(strings(known), known),
    },
    { requiredKeys: ['role', 'content'] },
  );
  const chat = fc.record(
    {
      ...common,
      messages: maybe(fc.array(message, { maxLength: 6 }), known),
      max_completion_tokens: maybe(fc.oneof(fc.integer({ min: 1, max: 8 }), ints, floats), known),
    },
    { requiredKeys: ['model', 'messages'] },
  );
  const tameCommon = {
    model: fc.constantFrom(known.channel, 'base'),
    max_tokens: fc.integer({ min: 1, max: 8 }),
    temperature: fc.constantFrom(0, 0.7, 1),
    top_p: fc.constantFrom(0.5, 1),
    n: fc.integer({ min: 1, max: 3 }),
    stop: fc.oneof(
      fc.string({ minLength: 1, maxLength: 3 }),
      fc.array(fc.lorem({ maxCount: 1 }), { maxLength: 2 }),
    ),
    seed: fc.nat(1000),
    stream: fc.boolean(),
    stream_options: fc.record({ include_usage: fc.boolean() }),
    user: fc.lorem({ maxCount: 1 }),
  };
  const tameCompletion = fc.record(
    {
      ...tameCommon,
      prompt: fc.oneof(
        fc.lorem({ maxCount: 12 }),
        fc.array(fc.lorem({ maxCount: 6 }), { minLength: 1, maxLength: 3 }),
      ),
    },
    { requiredKeys: ['model', 'prompt'] },
  );
  const tameChat = fc.record(
    {
      ...tameCommon,
      messages: fc.array(
        fc.record({
          role: fc.constantFrom('system', 'user', 'assistant'),
          content: fc.oneof(
            fc.lorem({ maxCount: 10 }),
            fc.array(fc.record({ type: fc.constant('text'), text: fc.lorem({ maxCount: 5 }) }), {
              maxLength: 2,
            }),
          ),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    },
    { requiredKeys: ['model', 'messages'] },
  );
  const bodies = (path: string) => {
    const valid = path.startsWith('/v1/chat') ? chat : completion;
    const asJson = valid.map((v) => toJson(v));
    return fc.oneof(
      {
        weight: 6,
        arbitrary: (path.startsWith('/v1/chat') ? tameChat : tameCompletion).map((v) => toJson(v)),
      },
      { weight: 10, arbitrary: asJson },
      // a valid-looking body with fields left out
      {
        weight: 2,
        arbitrary: fc
          .tuple(valid, fc.subarray([...optional, 'model', 'prompt', 'messages']))
          .map(([v, drop]) =>
            toJson(Object.fromEntries(Object.entries(v).filter(([k]) => !drop.includes(k)))),
          ),
      },
      { weight: 2, arbitrary: wrongValues(known).map((v) => toJson(v)) },
      // bad JSON: cut short, garbled, or no JSON at all
      {
        weight: 2,
        arbitrary: fc
          .tuple(asJson, fc.nat())
          .map(([text, cut]) => text.slice(0, cut % Math.max(1, text.length))),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '',
          '{',
          '[]',
          'null',
          '"x"',
          '{"model":}',
          '\u0000',
          '{"__proto__":{"x":1}}',
        ),
      },
    );
  };
  return fc.constantFrom('/v1/completions', '/v1/chat/completions').chain((path) =>
    fc.record({
      path: fc.constant(path),
      token: tokens,
      contentType: fc.oneof(
        { weight: 10, arbitrary: fc.constant('application/json') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'application/json; charset=utf-8',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/JSON',
            'application/json; charset=latin1',
            'application/vnd.api+json',
            null,
          ),
        },
      ),
      body: bodies(path),
    }),
  );
}

// ---------------------------------------------------------------- the gateway

describe('fuzz: no 5xx, no internals, whatever the request', () => {
  let started: StartedApp;
  let env: TestEnv;
  let schema: GraphQLSchema;
  let known: Known;
  const keys: Record<Token, string | null> = { admin: null, service: null, none: null, garbage: null };

  const send = async (path: string, token: Token, contentType: string | null, body: string) => {
    const headers: Record<string, string> = {};
    if (contentType) headers['content-type'] = contentType;
    const key = keys[token];
    if (key) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${started.url}${path}`, { method: 'POST', headers, body });
    return { status: res.status, text: await res.text() };
  };
  const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const res = await send('/graphql', 'admin', 'application/json', JSON.stringify({ query, variables }));
    const parsed = JSON.parse(res.text) as { data?: T; errors?: unknown[] };
    if (parsed.errors) throw new Error(`fixture: ${res.text}`);
    return parsed.data!;
  };
  /** With FUZZ_STATS set, how the answers fell out: status and GraphQL error code (or reason) per route. */
  const stats = new Map<string, number>();
  const count = (route: string, status: number, text: string) => {
    if (!process.env.FUZZ_STATS) return;
    const code = /"(?:code|reason)":"([A-Z_]+)"/.exec(text)?.[1] ?? (/"data":\{/.test(text) ? 'data' : '-');
    const message =
      process.env.FUZZ_STATS === 'messages' ? (/"message":"([^"]{0,80})/.exec(text)?.[1] ?? '') : '';
    const key = `${route} ${status} ${code} ${message}`;
    stats.set(key, (stats.get(key) ?? 0) + 1);
  };
  const collected = new Map<string, string>();
  const check = (label: string, status: number, text: string, sent: string) => {
    const problems = problemsOf(status, text, sent);
    if (problems.length > 0 && process.env.FUZZ_COLLECT) {
      const key = `${label.split(' (')[0]} ${problems.join('; ')}`;
      if (!collected.has(key)) collected.set(key, `${text.slice(0, 300)}\nSENT ${sent.slice(0, 600)}`);
      return;
    }
    if (problems.length > 0) {
      throw new Error(`${label}: ${problems.join('; ')}\nanswer (${status}): ${text.slice(0, 2000)}`);
    }
  };

  beforeAll(async () => {
    env = process.env.FUZZ_DB === 'sqlite' ? await freshSqliteFile() : await freshPostgresSchema();
    started = await startApp(
      'api',
      testConfig(env, {
        // every request counts, none is refused for its rate
        KEY_RATE_PER_SECOND: '1000000',
        KEY_RATE_BURST: '1000000',
        KEY_API_RATE_PER_SECOND: '1000000',
        KEY_API_RATE_BURST: '1000000',
        // generation stays short: a case is about the request, not the text (chat's default of 64 is refused)
        KEY_MAX_TOKENS_PER_REQUEST: '16',
        ...(process.env.FUZZ_LOG_LEVEL ? { LOG_LEVEL: process.env.FUZZ_LOG_LEVEL } : {}),
      }),
    );
    await started.app.get(ModelService).whenSettled();
    schema = started.app.get(GraphQLSchemaHost).schema;
    keys.admin = (
      await started.app.get(PrincipalsService).bootstrapAdmin(systemActor('test'), 'admin')
    ).token;
    keys.garbage = `sg_${randomBytes(24).toString('hex')}`;
    const principal = async (role: Role) => {
      const { createPrincipal } = await gql<{ createPrincipal: { id: string } }>(
        'mutation($input: CreatePrincipalInput!) { createPrincipal(input: $input) { id } }',
        { input: { name: `${role}-${randomBytes(3).toString('hex')}`, role } },
      );
      const { createApiKey } = await gql<{ createApiKey: { token: string; apiKey: { id: string } } }>(
        'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { token apiKey { id } } }',
        { input: { principalId: createPrincipal.id, label: 'fuzz' } },
      );
      return { id: createPrincipal.id, keyId: createApiKey.apiKey.id, token: createApiKey.token };
    };
    keys.service = (await principal(Role.service)).token;
    // Ids the fuzz may use, revoke or disable: none is the admin's or the service key's.
    const victim = await principal(Role.ml_engineer);
    const channel = 'fuzz';
    const { createChannel } = await gql<{ createChannel: { id: string } }>(
      'mutation($input: CreateChannelInput!) { createChannel(input: $input) { id } }',
      { input: { name: channel, baseModel: 'default' } },
    );
    const { addKnowledgeSource } = await gql<{ addKnowledgeSource: { id: string } }>(
      'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
      { input: { title: 'Fuzz', passage: 'The fuzz passage is about a quiet town by the sea.' } },
    );
    const { proposeSelfEdit } = await gql<{ proposeSelfEdit: { id: string } }>(
      'mutation($input: ProposeSelfEditInput!) { proposeSelfEdit(input: $input) { id } }',
      {
        input: {
          channel,
          kind: 'implications',
          content: 'The fuzz town is by the sea.',
          knowledgeSourceId: addKnowledgeSource.id,
        },
      },
    );
    known = {
      channel,
      ids: [victim.id, victim.keyId, createChannel.id, addKnowledgeSource.id, proposeSelfEdit.id],
    };
  });
  afterAll(async () => {
    if (stats.size > 0)
      console.log(
        [...stats]
          .sort()
          .map(([k, n]) => `${n}\t${k}`)
          .join('\n'),
      );
    await started?.stop();
    await env?.dispose();
  });

  it('finds what it looks for: a 5xx, an internal error, a server path, a stack frame, SQL', () => {
    const cases: [number, string][] = [
      [502, '{}'],
      [200, '{"errors":[{"extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}'],
      [400, `{"message":"cannot read ${process.cwd()}/models/x"}`],
      [400, '{"message":"ENOENT: /tmp/sealgate-1/adapters"}'],
      [400, '{"message":"boom","stack":"Error: boom\\n    at Foo.bar (dist/x.js:1:2)"}'],
      [400, '{"message":"QueryFailedError: duplicate key value violates unique constraint"}'],
      [400, '{"message":"invalid input syntax for type uuid: \\"x\\""}'],
      [400, '{"message":"Traceback (most recent call last):"}'],
    ];
    for (const [status, text] of cases) expect(problemsOf(status, text, '{}')).not.toEqual([]);
    // text the request carried itself is echoed, not leaked
    expect(problemsOf(404, '{"message":"Channel /tmp/x was not found"}', '{"name":"/tmp/x"}')).toEqual([]);
  });

  describe('cases the fuzz found, kept', () => {
    // PostgreSQL cannot store U+0000: any text holding it made the query fail, and the client read a 500
    // (GraphQL: INTERNAL_SERVER_ERROR). Now refused as BAD_USER_INPUT, NUL_CHARACTER (src/common/nul-character.pipe.ts).
    it.each([
      ['query Fuzz($v0: String!) { channel(name: $v0) { id } }', { v0: 'a\u0000b' }, 'name'],
      [
        'mutation Fuzz($v0: String!, $v1: String!) { rollbackChannel(channel: $v0, reason: $v1) { id } }',
        { v0: 'a\u0000b', v1: 'n' },
        'channel',
      ],
      ['{ channel(name: "\\u0000") { id } }', {}, 'name'],
      [
        'mutation($input: AddKnowledgeSourceInput!) { addKnowledgeSource(input: $input) { id } }',
        { input: { title: 'T', passage: 'A passage long enough to pass.', provenance: { notes: '\u0000' } } },
        'input.provenance.notes',
      ],
    ])('refuses NUL in GraphQL arguments: %s', async (query, variables, param) => {
      const body = JSON.stringify({ query, variables });
      const res = await send('/graphql', 'admin', 'application/json', body);
      check('NUL', res.status, res.text, body);
      const error = (
        JSON.parse(res.text) as { errors: { message: string; extensions: Record<string, unknown> }[] }
      ).errors[0];
      expect([error.extensions.code, error.extensions.reason, error.extensions.details]).toEqual([
        'BAD_USER_INPUT',
        'NUL_CHARACTER',
        { param },
      ]);
      expect(error.message).toBe(`${param}: text may not contain the NUL character (U+0000)`);
    });

    it.each([
      ['/v1/completions', { model: '\u0000', n: 3, stream: true, prompt: 'a\u0000b' }, 'model'],
      [
        '/v1/chat/completions',
        { model: 'fuzz', messages: [{ role: 'user', content: 'hi\u0000' }] },
        'messages.0.content',
      ],
    ])('refuses NUL in a /v1 body: %s', async (path, request, param) => {
      const body = JSON.stringify(request);
      const res = await send(path, 'admin', 'application/json', body);
      check('NUL', res.status, res.text, body);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toMatchObject({
        error: { type: 'invalid_request_error', code: 'NUL_CHARACTER', param },
      });
    });

    // graphql-ws threw on a document that does not parse and closed the socket with 4500 (Internal server
    // error), ending every subscription on it. Now an error of that operation (src/common/graphql/graphql.config.ts).
    it('answers a document that does not parse over graphql-ws as an error, and keeps the socket', async () => {
      let closed: number | undefined;
      const client = createClient({
        url: `${started.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${keys.admin}` },
        retryAttempts: 0,
        on: { closed: (event) => (closed = (event as { code?: number }).code) },
      });
      const first = (query: string) =>
        new Promise<unknown>((resolve) => {
          client.subscribe({ query }, { next: resolve, error: resolve, complete: () => resolve('complete') });
        });
      try {
        // a subscription that stays open meanwhile
        const waiting = client.subscribe(
          { query: 'subscription { pendingReviews { id } }' },
          {
            next: () => undefined,
            error: () => undefined,
            complete: () => undefined,
          },
        );
        for (const [query, message] of [
          [
            'subscription { sealRoundProgress(id: "\\ud800") { id } }',
            /^Syntax Error: Invalid Unicode escape/,
          ],
          [
            `subscription { sealRoundProgress(id: ${'['.repeat(50_000)}) { id } }`,
            /^Syntax Error: the document could not be parsed \(nested too deeply\)$/,
          ],
        ] as const) {
          const answer = (await first(query)) as { message: string; extensions: { code: string } }[];
          expect(answer).toEqual([
            expect.objectContaining({
              message: expect.stringMatching(message),
              extensions: { code: 'GRAPHQL_PARSE_FAILED' },
            }),
          ]);
          check('ws parse', 200, JSON.stringify(answer), query);
        }
        // the socket still answers
        const after = await first(`subscription { sealRoundProgress(id: "${known.ids[0]}") { id } }`);
        expect(JSON.stringify(after)).toContain(`SealRound ${known.ids[0]} was not found`);
        expect(closed).toBeUndefined();
        waiting();
      } finally {
        await client.dispose();
      }
    });
  });

  it(
    `sends ${GRAPHQL_RUNS} GraphQL operations over every root field of the schema`,
    async () => {
      const roots = rootFields(schema);
      expect(roots.length).toBeGreaterThan(40);
      const selections = new Map(roots.map((r) => [`${r.operation} ${r.field.name}`, selectionOf(r.field)]));
      const seen = new Set<string>();
      collected.clear();
      await fc.assert(
        fc.asyncProperty(gqlCases(roots, known), async (c) => {
          const body = gqlBody(c, selections.get(`${c.operation} ${c.field}`)!);
          const res = await send('/graphql', c.token, c.contentType, body);
          seen.add(c.field);
          count(`graphql ${c.field}`, res.status, res.text);
          check(`${c.operation} ${c.field} (${c.token})`, res.status, res.text, body);
        }),
        { numRuns: GRAPHQL_RUNS, seed: SEED, endOnFailure: true },
      );
      // with FUZZ_COLLECT: every distinct failure of this property, with an answer and a request
      expect([...collected]).toEqual([]);
      // every field was sent at least once (with this many cases, by chance alone)
      if (GRAPHQL_RUNS >= 1000)
        expect(roots.map((r) => r.field.name).filter((f) => !seen.has(f))).toEqual([]);
    },
    timeoutFor(GRAPHQL_RUNS),
  );

  it(
    `opens ${SOCKET_RUNS} subscriptions over graphql-ws`,
    async () => {
      const roots = rootFields(schema).filter((r) => r.operation === 'subscription');
      expect(roots.length).toBeGreaterThan(0);
      const selections = new Map(roots.map((r) => [`${r.operation} ${r.field.name}`, selectionOf(r.field)]));
      /** Everything the socket said within `ms` (or until the operation ended), and how it closed, if it did. */
      const run = (
        token: Token,
        payload: { query: string; variables?: Record<string, unknown> },
        ms: number,
      ) =>
        new Promise<{ said: unknown[]; closed?: number }>((resolve) => {
          const said: unknown[] = [];
          let closed: number | undefined;
          const client = createClient({
            url: `${started.url.replace('http', 'ws')}/graphql`,
            webSocketImpl: WebSocket,
            connectionParams: keys[token] ? { authorization: `Bearer ${keys[token]}` } : {},
            retryAttempts: 0,
            on: { closed: (event) => (closed = (event as { code?: number }).code) },
          });
          const finish = () => {
            clearTimeout(timer);
            void client.dispose();
            resolve({ said, closed });
          };
          const timer = setTimeout(finish, ms);
          client.subscribe(payload, {
            next: (result) => said.push(result),
            error: (error) => {
              said.push(error instanceof Error ? { message: error.message } : error);
              finish();
            },
            complete: finish,
          });
        });
      collected.clear();
      await fc.assert(
        fc.asyncProperty(gqlCases(roots, known), async (c) => {
          const sent = gqlBody(c, selections.get(`${c.operation} ${c.field}`)!);
          // the client encodes the message itself: huge and deeply nested cases are left to the HTTP run
          fc.pre(sent.length < 20_000);
          const { query, variables } = JSON.parse(sent) as {
            query: string;
            variables?: Record<string, unknown>;
          };
          const answer = await run(c.token, { query, variables }, 150);
          count(`ws ${c.field}`, answer.closed ?? 0, JSON.stringify(answer.said));
          // graphql-ws closes with 4500 for an error on the server; 4400 (bad message) and 4403 (key) are the client's
          const status = answer.closed !== undefined && answer.closed >= 4500 ? 500 : 200;
          check(`subscription ${c.field} (${c.token})`, status, JSON.stringify(answer.said), sent);
        }),
        { numRuns: SOCKET_RUNS, seed: SEED, endOnFailure: true },
      );
      // with FUZZ_COLLECT: every distinct failure of this property, with an answer and a request
      expect([...collected]).toEqual([]);
    },
    timeoutFor(SOCKET_RUNS * 5),
  );

  it(
    `sends ${OPENAI_RUNS} requests to /v1/completions and /v1/chat/completions`,
    async () => {
      collected.clear();
      await fc.assert(
        fc.asyncProperty(openAiCases(known), async (c) => {
          const res = await send(c.path, c.token, c.contentType, c.body);
          count(c.path, res.status, res.text);
          check(`${c.path} (${c.token}, ${c.contentType})`, res.status, res.text, c.body);
        }),
        { numRuns: OPENAI_RUNS, seed: SEED, endOnFailure: true },
      );
      // with FUZZ_COLLECT: every distinct failure of this property, with an answer and a request
      expect([...collected]).toEqual([]);
    },
    timeoutFor(OPENAI_RUNS),
  );
});
