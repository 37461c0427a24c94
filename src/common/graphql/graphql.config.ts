import { randomUUID } from 'node:crypto';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import {
  execute,
  ExecutionArgs,
  ExecutionResult,
  GraphQLError,
  GraphQLFormattedError,
  parse,
  subscribe,
} from 'graphql';
import type { Context } from 'graphql-ws';
import { ErrorKind } from 'src/common/errors/error-kind';
import { subscriptionsOverHttpRefused } from 'src/common/graphql/http-subscriptions.plugin';
import { operationLimitError, QueryLimits } from 'src/common/graphql/query-limits.plugin';

/** How graphql-ws connections are authenticated: when they open, and again after every change to keys. */
export interface ConnectionAuth {
  /** Rejects (throws) for a key that is not valid (unknown, revoked, expired, its principal disabled). */
  authenticate(token: string): Promise<unknown>;
  /** Calls `listener` after every change that may revoke a key, made in this process or another. */
  onChange(listener: () => void): void;
}

interface Closable {
  close(code?: number, reason?: string): void;
}

interface SocketExtra {
  /** The WebSocket itself (graphql-ws's `ws` server puts it here). */
  socket?: Closable;
  /** The connection's bearer header, kept from connection_init for every operation on it. */
  authorization?: string;
}

/** graphql-ws's close code for a connection that may no longer be served (the client does not retry it). */
const FORBIDDEN = 4403;

/**
 * The open sockets with their API keys. After every change to keys or principals each key is checked again, and
 * a socket whose key no longer authenticates is closed, ending every subscription on it (in every api process:
 * the change reaches each one's ApiKeyCache through Redis).
 */
function socketsClosedOnRevocation(auth: ConnectionAuth) {
  const open = new Map<Closable, string>();
  const recheck = () =>
    Promise.all(
      [...open].map(async ([socket, token]) => {
        try {
          await auth.authenticate(token);
        } catch {
          open.delete(socket);
          socket.close(FORBIDDEN, 'Forbidden: the API key is no longer valid');
        }
      }),
    );
  auth.onChange(() => void recheck());
  return {
    /** Kept before the key is checked, so that a change made while it is checked is not missed. */
    add: (socket: Closable, token: string) => open.set(socket, token),
    remove: (socket: Closable | undefined) => socket && open.delete(socket),
  };
}

const bearer = (params: Record<string, unknown> | undefined): string | undefined => {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' && /^Bearer\s+\S+$/i.test(value) ? value : undefined;
};

/**
 * Apollo refuses some malformed requests (a persisted-query hash that does not match the query, an unknown
 * persisted-query version) with a 4xx status but no code, which would otherwise read INTERNAL_SERVER_ERROR.
 */
const isMalformedRequest = (error: unknown): boolean => {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: number } | undefined)?.status;
  return status !== undefined && status >= 400 && status < 500;
};

/**
 * graphql-ws parses an operation itself and, when the document does not parse, throws: the socket was closed with
 * 4500 (Internal server error), ending every subscription on it. A document that does not parse is the client's
 * fault: answered as an error of that operation, with Apollo's code for it over HTTP (GRAPHQL_PARSE_FAILED).
 * Returning nothing lets graphql-ws go on as usual.
 */
const refuseUnparsable = (
  _ctx: unknown,
  _id: unknown,
  payload: { query: string },
): GraphQLError[] | undefined => {
  try {
    parse(payload.query);
    return undefined;
  } catch (err) {
    const message =
      err instanceof GraphQLError
        ? err.message
        : 'Syntax Error: the document could not be parsed (nested too deeply)';
    return [new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
  }
};

/** graphql-ws runs operations itself, unseen by Apollo's plugins: the same limits apply before they run. */
const withinLimits =
  <R>(run: (args: ExecutionArgs) => R, limits: QueryLimits) =>
  (args: ExecutionArgs): R | ExecutionResult => {
    const error = operationLimitError(limits, {
      schema: args.schema,
      document: args.document,
      operationName: args.operationName,
      variables: args.variableValues,
    });
    return error ? { errors: [error] } : run(args);
  };

/**
 * Code-first schema, built in memory and sorted; `schema.graphql` is the committed copy checked for drift.
 * Subscriptions speak graphql-ws on the same path: the client sends `{ authorization: "Bearer sg_..." }` as
 * connection_init payload, the key is checked there (a bad one closes the socket with 4403), and each operation
 * on the socket then passes AuthGuard like any HTTP request. A key revoked (or its principal disabled) while the
 * socket is open closes it with 4403, ending the subscriptions already running on it.
 */
export function graphqlOptions(limits: QueryLimits, auth?: ConnectionAuth): ApolloDriverConfig {
  const sockets = auth && socketsClosedOnRevocation(auth);
  return {
    driver: ApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    playground: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        onConnect: async (ctx: Context<Record<string, unknown> | undefined, unknown>) => {
          const authorization = bearer(ctx.connectionParams);
          const extra = ctx.extra as SocketExtra;
          if (!authorization || !auth || !sockets || !extra.socket) return false;
          const token = authorization.replace(/^Bearer\s+/i, '');
          sockets.add(extra.socket, token);
          try {
            await auth.authenticate(token);
          } catch {
            sockets.remove(extra.socket);
            return false;
          }
          extra.authorization = authorization;
          return true;
        },
        onClose: (ctx: Context<Record<string, unknown> | undefined, unknown>) => {
          sockets?.remove((ctx.extra as SocketExtra).socket);
        },
        onSubscribe: refuseUnparsable,
      },
      // Nest hands these to graphql-ws (GqlSubscriptionServiceOptions), though SubscriptionConfig omits them.
      ...({ execute: withinLimits(execute, limits), subscribe: withinLimits(subscribe, limits) } as object),
    },
    // Over HTTP the request is Express's; over a socket, a request-like object with the connection's header.
    context: (ctx: { req?: unknown; res?: unknown; extra?: SocketExtra }) =>
      ctx.req
        ? { req: ctx.req, res: ctx.res }
        : { req: { id: randomUUID(), headers: { authorization: ctx.extra?.authorization } } },
    plugins: [subscriptionsOverHttpRefused],
    // Errors raised by Apollo itself (parse, validation) keep their code but never carry internals.
    formatError: (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
      const extensions = { ...formatted.extensions };
      delete extensions.stacktrace;
      delete extensions.exception;
      if (extensions.code === ErrorKind.INTERNAL_SERVER_ERROR && isMalformedRequest(error)) {
        extensions.code = ErrorKind.BAD_USER_INPUT;
        extensions.reason = 'MALFORMED_REQUEST';
      }
      return { ...formatted, extensions };
    },
  };
}
