import { FragmentDefinitionNode, Kind, OperationDefinitionNode, parse } from 'graphql';
import { rootFieldsOf } from 'src/auth/auth.guard';

const infoOf = (source: string) => {
  const document = parse(source);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )!;
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  return { operation, fragments };
};

describe('rootFieldsOf', () => {
  it('names each root field once with how often it was asked, through aliases and fragments', () => {
    expect(rootFieldsOf(infoOf('{ a: users { id } b: users { id } audit }'))).toEqual({ users: 2, audit: 1 });
    expect(
      rootFieldsOf(infoOf('{ ...F ... on Query { audit } } fragment F on Query { x: audit users { id } }')),
    ).toEqual({ audit: 2, users: 1 });
  });
});
