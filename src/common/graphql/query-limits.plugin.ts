import { Inject } from '@nestjs/common';
import { Plugin } from '@nestjs/apollo';
import { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import {
  DocumentNode,
  FragmentDefinitionNode,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLSchema,
  Kind,
  SelectionSetNode,
} from 'graphql';
import {
  ComplexityEstimator,
  getComplexity,
  simpleEstimator,
  fieldExtensionsEstimator,
} from 'graphql-query-complexity';
import { APP_CONFIG, AppConfig } from 'src/config/app-config';
import { ErrorKind } from 'src/common/errors/error-kind';
import { PAGING_ARGUMENT_RANGES } from 'src/common/pagination.args';
import { MetricsService } from 'src/observability/metrics.service';

export interface OperationSize {
  /** Deepest field nesting. */
  depth: number;
  /** Field selections, each alias and each use of a fragment counted. */
  fields: number;
}

/**
 * Size of the largest operation in a document, following fragments. Each fragment is measured once and reused
 * wherever it is spread, so fragments that spread each other many times over cannot make this slow.
 */
export function operationSize(document: DocumentNode): OperationSize {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const measured = new Map<string, OperationSize>();
  const open = new Set<string>();

  const fragmentSize = (name: string): OperationSize => {
    const known = measured.get(name);
    if (known) return known;
    // A cycle: validation has already rejected the document; count nothing twice.
    if (open.has(name)) return { depth: 0, fields: 0 };
    open.add(name);
    const size = sizeOf(fragments.get(name)?.selectionSet);
    open.delete(name);
    measured.set(name, size);
    return size;
  };
  const sizeOf = (set: SelectionSetNode | undefined): OperationSize => {
    const total = { depth: 0, fields: 0 };
    for (const sel of set?.selections ?? []) {
      let size: OperationSize;
      if (sel.kind === Kind.FIELD) {
        const inner = sizeOf(sel.selectionSet);
        size = { depth: 1 + inner.depth, fields: 1 + inner.fields };
      } else if (sel.kind === Kind.INLINE_FRAGMENT) size = sizeOf(sel.selectionSet);
      else size = fragmentSize(sel.name.value);
      total.depth = Math.max(total.depth, size.depth);
      total.fields += size.fields;
    }
    return total;
  };

  const largest = { depth: 0, fields: 0 };
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    const size = sizeOf(def.selectionSet);
    largest.depth = Math.max(largest.depth, size.depth);
    largest.fields = Math.max(largest.fields, size.fields);
  }
  return largest;
}

/** A list field costs its page size times what each item selects; page size is the `limit` argument. */
const pagedListEstimator: ComplexityEstimator = ({ args, childComplexity }) =>
  typeof args.limit === 'number' ? args.limit * Math.max(1, childComplexity) : undefined;

/** Notes each paging argument outside its range (the price of a list depends on it); prices nothing itself. */
const pagingArgumentCheck =
  (problems: Set<string>): ComplexityEstimator =>
  ({ args, field }) => {
    for (const [name, { min, max }] of Object.entries(PAGING_ARGUMENT_RANGES)) {
      const value: unknown = args[name];
      if (typeof value === 'number' && (value < min || value > max))
        problems.add(`${field.name}: ${name} must be from ${min} to ${max}, not ${value}`);
    }
    return undefined;
  };

const tooComplex = (message: string, details: Record<string, number>) =>
  new GraphQLError(message, {
    extensions: {
      code: ErrorKind.QUERY_TOO_COMPLEX,
      reason: ErrorKind.QUERY_TOO_COMPLEX,
      ...details,
      http: { status: 400 },
    },
  });

const pagingOutOfRange = (problems: Set<string>) => {
  const listed = [...problems].slice(0, 10);
  return new GraphQLError(`Paging argument out of range: ${listed.join('; ')}`, {
    extensions: {
      code: ErrorKind.BAD_USER_INPUT,
      reason: 'PAGING_ARGUMENT_OUT_OF_RANGE',
      details: { problems: listed },
      http: { status: 400 },
    },
  });
};

export type QueryLimits = Pick<
  AppConfig,
  'GRAPHQL_MAX_DEPTH' | 'GRAPHQL_MAX_FIELDS' | 'GRAPHQL_MAX_COMPLEXITY'
>;

export interface OperationToCheck {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/**
 * Why an operation may not run (too deep, too many fields, a page out of range, too costly), or undefined when it
 * may. An operation whose cost cannot be estimated is refused, never let through. Checked before any resolver
 * runs, over HTTP (QueryLimitsPlugin) and over graphql-ws alike.
 */
export function operationLimitError(limits: QueryLimits, op: OperationToCheck): GraphQLError | undefined {
  const {
    GRAPHQL_MAX_DEPTH: maxDepth,
    GRAPHQL_MAX_FIELDS: maxFields,
    GRAPHQL_MAX_COMPLEXITY: maxComplexity,
  } = limits;
  const { schema, document } = op;
  const { depth, fields } = operationSize(document);
  if (depth > maxDepth) {
    return tooComplex(`Query depth ${depth} exceeds the limit of ${maxDepth}`, { depth, maxDepth });
  }
  if (fields > maxFields) {
    return tooComplex(
      `Operation selects ${fields} fields (aliases and fragment uses counted), over the limit of ${maxFields}`,
      { fields, maxFields },
    );
  }
  const variables = op.variables ?? {};
  const operation = getOperationAST(document, op.operationName);
  // No such operation, or invalid variables: execution rejects them next; there is nothing to price.
  if (!operation || getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) {
    return undefined;
  }
  const problems = new Set<string>();
  let complexity: number;
  try {
    complexity = getComplexity({
      schema,
      query: document,
      operationName: op.operationName ?? undefined,
      variables,
      estimators: [
        pagingArgumentCheck(problems),
        fieldExtensionsEstimator(),
        pagedListEstimator,
        simpleEstimator({ defaultComplexity: 1 }),
      ],
    });
  } catch {
    if (problems.size) return pagingOutOfRange(problems);
    return tooComplex('Query cost could not be estimated, so the query is refused', { maxComplexity });
  }
  if (problems.size) return pagingOutOfRange(problems);
  if (complexity > maxComplexity) {
    return tooComplex(`Query cost ${complexity} exceeds the limit of ${maxComplexity}`, {
      complexity,
      maxComplexity,
    });
  }
  return undefined;
}

/** Applies the operation limits to GraphQL over HTTP, and counts operations. */
@Plugin()
export class QueryLimitsPlugin implements ApolloServerPlugin {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  requestDidStart(): Promise<GraphQLRequestListener<object>> {
    const { config, metrics } = this;
    return Promise.resolve({
      didResolveOperation({ request, document, schema }) {
        const error = operationLimitError(config, {
          schema,
          document,
          operationName: request.operationName,
          variables: request.variables,
        });
        if (error) throw error;
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
