/**
 * The shape of a parsed document, measured in time linear in its text before any validation or
 * cost estimate runs. Two shapes cost those steps far more than the text's size suggests:
 *
 * - Fragments that spread each other twice, ten deep, are a few hundred bytes that stand for a
 *   thousand fields (2^n): the cost estimator expands every spread again, so 22 levels took 13 s
 *   and 30 would take hours, on the thread that serves everyone, before any token is checked. Here
 *   each fragment's size is counted once, and a document whose operation expands to more fields
 *   than the cost limit allows is refused at once: every field costs at least 1.
 * - The same field written many times in one selection set: graphql-js compares every pair of
 *   them (OverlappingFieldsCanBeMerged), and again for each pair of their sub-selections, so 450
 *   copies cost 40 to 400 ms each time they are sent. Copies brought by named fragments are left
 *   to graphql-js, which compares each pair of fragments once and within a budget of its own;
 *   counting them here would merge each fragment's fields into every place it is spread, which
 *   costs as much as what it guards against.
 *
 * Sizes go through named fragments with each fragment counted once (memoized); a cycle of
 * fragments counts as nothing here, and validation refuses it (NoFragmentCycles).
 */
import {
  GraphQLError,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { QueryLimitExceeded } from './query-limit-exceeded';

/** Most fragment definitions in one document. */
export const MAX_FRAGMENTS = 50;
/** Most times one response name may be selected in one selection set (inline fragments included). */
export const MAX_SAME_FIELD = 16;
/**
 * Most `__typename`s in one selection set. Clients add one to every selection set and inline
 * fragment, so it has a larger allowance of its own; without any, 10,000 of them took 40-135 ms to
 * validate.
 */
export const MAX_TYPENAME = 100;

type Counts = Map<string, number>;

export function documentShapeRefusal(document: DocumentNode, maxCost: number): GraphQLError | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const conditional = conditionalSubscriptionRoot(document, fragments);
  if (conditional) return conditional;
  if (fragments.size > MAX_FRAGMENTS) {
    return new QueryLimitExceeded(
      'TOO_MANY_FRAGMENTS',
      `The document defines ${fragments.size} fragments; at most ${MAX_FRAGMENTS} are allowed.`,
      MAX_FRAGMENTS,
      fragments.size,
    );
  }

  // Each named fragment's expanded size, once.
  const sizeOfFragment = new Map<string, number>();
  const visiting = new Set<string>();
  const throughFragment = (name: string): number => {
    const known = sizeOfFragment.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || visiting.has(name)) return 0; // unknown or cyclic: validation says so
    visiting.add(name);
    const measured = sizeOf(fragment.selectionSet);
    visiting.delete(name);
    sizeOfFragment.set(name, measured);
    return measured;
  };

  /**
   * The response names a selection set asks for itself, inline fragments flattened. A named
   * fragment's are counted where it is defined: each selection set written in the document is read
   * once, so the pass stays linear in its text.
   */
  const namesIn = (set: SelectionSetNode, into: Counts = new Map()): Counts => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = (selection.alias ?? selection.name).value;
        into.set(name, (into.get(name) ?? 0) + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        namesIn(selection.selectionSet, into);
      }
    }
    return into;
  };

  /** Fields a selection set stands for once every fragment in it is expanded (at least its cost). */
  const sizeOf = (set: SelectionSetNode): number => {
    let size = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) size += 1 + (selection.selectionSet ? sizeOf(selection.selectionSet) : 0);
      else if (selection.kind === Kind.INLINE_FRAGMENT) size += sizeOf(selection.selectionSet);
      else size += throughFragment(selection.name.value);
    }
    return size;
  };

  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const size = sizeOf(definition.selectionSet);
    if (size > maxCost) {
      const actual = Math.min(size, Number.MAX_SAFE_INTEGER);
      return new QueryLimitExceeded(
        'QUERY_TOO_COMPLEX',
        `The query selects ${actual} fields once its fragments are expanded, and each costs at least 1; ` +
          `at most ${maxCost} is allowed. Ask for fewer fields.`,
        maxCost,
        actual,
      );
    }
  }

  // Every selection set written in the document, each looked at once.
  const repeated = (set: SelectionSetNode): QueryLimitExceeded | undefined => {
    for (const [name, count] of namesIn(set)) {
      const most = name === '__typename' ? MAX_TYPENAME : MAX_SAME_FIELD;
      if (count > most) {
        return new QueryLimitExceeded(
          'FIELD_REPEATED',
          `The field ${name} is selected ${count} times in one selection set (inline fragments included); ` +
            `at most ${most} are allowed.`,
          most,
          count,
        );
      }
    }
    for (const selection of set.selections) {
      const inner = selection.kind === Kind.FRAGMENT_SPREAD ? undefined : selection.selectionSet;
      const refusal = inner && repeated(inner);
      if (refusal) return refusal;
    }
    return undefined;
  };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION) continue;
    const refusal = repeated(definition.selectionSet);
    if (refusal) return refusal;
  }

  return undefined;
}

const isConditional = (directive: { name: { value: string } }): boolean =>
  directive.name.value === 'skip' || directive.name.value === 'include';

/**
 * A subscription has exactly one root field, so it may not be skipped or included by a condition
 * (the GraphQL specification's draft and graphql-js 17 say so). graphql-js 16 instead throws while
 * validating one whose condition is a variable, and while subscribing to one whose root field a
 * literal condition took away: an internal error over HTTP, a socket closed with 4500 over
 * graphql-ws. Refused here as the validation error it is.
 */
function conditionalSubscriptionRoot(
  document: DocumentNode,
  fragments: Map<string, FragmentDefinitionNode>,
): GraphQLError | undefined {
  const seen = new Set<string>();
  const conditionalIn = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.directives?.some(isConditional)) return true;
      if (selection.kind === Kind.INLINE_FRAGMENT) return conditionalIn(selection.selectionSet);
      if (selection.kind !== Kind.FRAGMENT_SPREAD || seen.has(selection.name.value)) return false;
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      return fragment !== undefined && conditionalIn(fragment.selectionSet);
    });
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION || definition.operation !== OperationTypeNode.SUBSCRIPTION)
      continue;
    if (!conditionalIn(definition.selectionSet)) continue;
    const name = definition.name ? `Subscription "${definition.name.value}"` : 'An anonymous subscription';
    return new GraphQLError(`${name} may not use @skip or @include on its root field.`, {
      nodes: definition,
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } },
    });
  }
  return undefined;
}
