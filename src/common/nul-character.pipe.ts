import { ArgumentMetadata, PipeTransform } from '@nestjs/common';
import { CommonError, CommonErrorCode } from 'src/common/errors/domain-error';

/**
 * Where in `value` a string (or an object key) first holds U+0000, as a dotted path from `root`; `undefined` if
 * none.
 * Walks without recursion, so a deeply nested body cannot overflow the stack.
 */
export function nulCharacterAt(value: unknown, root = ''): string | undefined {
  const pending: [unknown, string][] = [[value, root]];
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [item, path] = next;
    if (typeof item === 'string') {
      if (item.includes('\u0000')) return path;
    } else if (typeof item === 'object' && item !== null) {
      const entries = Object.entries(item);
      if (entries.some(([key]) => key.includes('\u0000'))) return path;
      // last in, first out: pushed in reverse, the first field in the request is reported first
      for (let i = entries.length - 1; i >= 0; i--) pending.push([entries[i][1], join(path, entries[i][0])]);
    }
  }
  return undefined;
}

/**
 * The parameters a client wrote: a body, a query string, a route parameter, GraphQL arguments (@nestjs/graphql's
 * GqlParamtype.ARGS is 3; it does not export the enum). Not the GraphQL context, root or info, nor @Auth().
 */
const CLIENT_INPUT = new Set<unknown>(['body', 'query', 'param', 3]);

/**
 * PostgreSQL's text and jsonb cannot hold U+0000: a query given such a string fails, and the client read a 500.
 * Every GraphQL argument and every /v1 body passes here first (a global pipe), and text holding one is refused
 * as BAD_USER_INPUT, reason NUL_CHARACTER, naming where it was (`param`), on every database alike.
 */
export class NulCharacterPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (!CLIENT_INPUT.has(metadata.type)) return value;
    const param = nulCharacterAt(value, metadata.data ?? '');
    if (param === undefined) return value;
    throw new CommonError(
      CommonErrorCode.NUL_CHARACTER,
      `${param || 'body'}: text may not contain the NUL character (U+0000)`,
      { param: param || null },
    );
  }
}
