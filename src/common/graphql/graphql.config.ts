import { randomUUID } from 'node:crypto';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLFormattedError } from 'graphql';
import type { Context } from 'graphql-ws';

/** Checks an API key when a WebSocket connection opens; rejects (throws) for a key that is not valid. */
export type ConnectionAuthenticator = (token: string) => Promise<unknown>;

interface SocketExtra {
  /** The connection's bearer header, kept from connection_init for every operation on it. */
  authorization?: string;
}

const bearer = (params: Record<string, unknown> | undefined): string | undefined => {
  const value = params?.authorization ?? params?.Authorization;
  return typeof value === 'string' && /^Bearer\s+\S+$/i.test(value) ? value : undefined;
};

/**
 * Code-first schema, built in memory and sorted; `schema.graphql` is the committed copy checked for drift.
 * Subscriptions speak graphql-ws on the same path: the client sends `{ authorization: "Bearer sg_..." }` as
 * connection_init payload, the key is checked there (a bad one closes the socket with 4403), and each operation
 * on the socket then passes AuthGuard like any HTTP request, so a key revoked mid-connection stops working.
 */
export function graphqlOptions(authenticate?: ConnectionAuthenticator): ApolloDriverConfig {
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
          if (!authorization || !authenticate) return false;
          try {
            await authenticate(authorization.replace(/^Bearer\s+/i, ''));
          } catch {
            return false;
          }
          (ctx.extra as SocketExtra).authorization = authorization;
          return true;
        },
      },
    },
    // Over HTTP the request is Express's; over a socket, a request-like object with the connection's header.
    context: (ctx: { req?: unknown; res?: unknown; extra?: SocketExtra }) =>
      ctx.req
        ? { req: ctx.req, res: ctx.res }
        : { req: { id: randomUUID(), headers: { authorization: ctx.extra?.authorization } } },
    // Errors raised by Apollo itself (parse, validation) keep their code but never carry internals.
    formatError: (formatted: GraphQLFormattedError): GraphQLFormattedError => {
      const extensions = { ...formatted.extensions };
      delete extensions.stacktrace;
      delete extensions.exception;
      return { ...formatted, extensions };
    },
  };
}
