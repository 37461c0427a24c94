import { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, OperationTypeNode } from 'graphql';
import { ErrorKind } from 'src/common/errors/error-kind';

/**
 * Apollo's plugins see only HTTP requests (subscriptions are served over graphql-ws on the same path), so a
 * subscription here came by POST or GET: it is refused as a bad request before its resolver runs.
 */
export const subscriptionsOverHttpRefused: ApolloServerPlugin = {
  requestDidStart: () =>
    Promise.resolve({
      didResolveOperation: ({ operation }) => {
        if (operation?.operation !== OperationTypeNode.SUBSCRIPTION) return Promise.resolve();
        throw new GraphQLError(
          'Subscriptions are served over WebSocket (graphql-ws protocol) on /graphql, not over HTTP',
          {
            extensions: {
              code: ErrorKind.BAD_USER_INPUT,
              reason: 'SUBSCRIPTION_OVER_HTTP',
              http: { status: 400 },
            },
          },
        );
      },
    }),
};
