import { Inject } from '@nestjs/common';
import { Plugin } from '@nestjs/apollo';
import { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { DocumentNode, FragmentDefinitionNode, GraphQLError, Kind, SelectionSetNode } from 'graphql';
import {
  ComplexityEstimator,
  getComplexity,
  simpleEstimator,
  fieldExtensionsEstimator,
} from 'graphql-query-complexity';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { ErrorKind } from 'src/common/errors/error-kind';
import { MetricsService } from 'src/observability/metrics.service';

/** Deepest field nesting of any operation, following fragments (cycles are already rejected by validation). */
export function queryDepth(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
    if (!set) return 0;
    let max = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD)
        max = Math.max(max, sel.selectionSet ? 1 + depthOf(sel.selectionSet, seen) : 1);
      else if (sel.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depthOf(sel.selectionSet, seen));
      else if (!seen.has(sel.name.value)) {
        max = Math.max(
          max,
          depthOf(fragments.get(sel.name.value)?.selectionSet, new Set([...seen, sel.name.value])),
        );
      }
    }
    return max;
  };
  let deepest = 0;
  for (const def of document.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION)
      deepest = Math.max(deepest, depthOf(def.selectionSet, new Set()));
  }
  return deepest;
}

/** A list field costs its page size times what each item selects; page size is the `limit` argument. */
const pagedListEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.limit === 'number' ? args.limit * Math.max(1, childComplexity) : undefined;

const tooComplex = (message: string, details: Record<string, number>) =>
  new GraphQLError(message, {
    extensions: {
      code: ErrorKind.QUERY_TOO_COMPLEX,
      reason: ErrorKind.QUERY_TOO_COMPLEX,
      ...details,
      http: { status: 400 },
    },
  });

/** Rejects too-deep or too-costly operations before any resolver runs, and counts operations. */
@Plugin()
export class QueryLimitsPlugin implements ApolloServerPlugin {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  requestDidStart(): Promise<GraphQLRequestListener<object>> {
    const { GRAPHQL_MAX_DEPTH: maxDepth, GRAPHQL_MAX_COMPLEXITY: maxComplexity } = this.config;
    const metrics = this.metrics;
    return Promise.resolve({
      didResolveOperation({ request, document, schema }) {
        const depth = queryDepth(document);
        if (depth > maxDepth) {
          throw tooComplex(`Query depth ${depth} exceeds the limit of ${maxDepth}`, { depth, maxDepth });
        }
        let complexity: number;
        try {
          complexity = getComplexity({
            schema,
            query: document,
            operationName: request.operationName ?? undefined,
            variables: request.variables ?? {},
            estimators: [
              fieldExtensionsEstimator(),
              pagedListEstimator,
              simpleEstimator({ defaultComplexity: 1 }),
            ],
          });
        } catch {
          // Invalid variables: execution rejects them next with BAD_USER_INPUT; there is nothing to cost.
          return Promise.resolve();
        }
        if (complexity > maxComplexity) {
          throw tooComplex(`Query cost ${complexity} exceeds the limit of ${maxComplexity}`, {
            complexity,
            maxComplexity,
          });
        }
        return Promise.resolve();
      },
      willSendResponse({ operation, response }) {
        const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
        metrics.graphqlOperations.inc({
          type: operation?.operation ?? 'unknown',
          name: operation?.name?.value ?? 'anonymous',
          outcome: errors?.length ? 'error' : 'ok',
        });
        return Promise.resolve();
      },
    });
  }
}
