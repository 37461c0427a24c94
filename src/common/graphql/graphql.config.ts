import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLFormattedError } from 'graphql';

/** Code-first schema, built in memory and sorted; `schema.graphql` is the committed copy checked for drift. */
export function graphqlOptions(): ApolloDriverConfig {
  return {
    driver: ApolloDriver,
    path: '/graphql',
    autoSchemaFile: true,
    sortSchema: true,
    playground: false,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
    // Errors raised by Apollo itself (parse, validation) keep their code but never carry internals.
    formatError: (formatted: GraphQLFormattedError): GraphQLFormattedError => {
      const extensions = { ...formatted.extensions };
      delete extensions.stacktrace;
      delete extensions.exception;
      return { ...formatted, extensions };
    },
  };
}
