import { GraphQLError } from 'graphql';
import { Args, Authorized, Ctx, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { WORKSPACE_CREDITS_CHANGED } from '../../queries/credits-changes';
import type { GraphQLContext } from '../context';
import { cursorArgument, decodeCursor, DEFAULT_LEDGER_PAGE, encodeCursor } from '../cursors';
import { requireWorkspaceAccess } from '../guards';
import { CreditBalanceAtArgs, CreditLedgerArgs, CreditUsageArgs, WorkspaceArgs } from '../inputs';
import { CreditLedgerConnection, UsageBucket } from '../types/ledger';
import { WorkspaceCredits } from '../types/workspace-credits';

const badInput = (message: string): GraphQLError =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/** The position a cursor argument stands for; a cursor this API did not issue is refused. */
const positionOf = (name: 'after' | 'before', cursor: string | null | undefined): bigint | undefined =>
  cursorArgument(name, cursor, decodeCursor);

/** Where credits went: the ledger, usage, the balance at a past instant, and live changes. */
@Authorized()
@Resolver()
export class CreditHistoryResolver {
  @Query(() => CreditLedgerConnection, {
    description:
      "The workspace's ledger, newest first, as a Relay connection: `first`/`after` pages towards older entries, `last`/`before` towards newer ones.",
  })
  creditLedger(
    @Args(() => CreditLedgerArgs) { workspaceId, first, after, last, before, types, from, to }: CreditLedgerArgs,
    @Ctx() context: GraphQLContext,
  ): CreditLedgerConnection {
    requireWorkspaceAccess(context, workspaceId);
    if (first != null && last != null) throw badInput('Give first or last, not both.');
    // An empty window is a mistake in the query, not an empty ledger, as for creditUsage.
    if (from != null && to != null && !(from < to)) throw badInput('from must be earlier than to.');
    const window = last == null ? { first: first ?? DEFAULT_LEDGER_PAGE } : { last };
    const { entries, hasNextPage, hasPreviousPage } = context.services.queries.ledgerPage(workspaceId, {
      ...window,
      olderThan: positionOf('after', after),
      newerThan: positionOf('before', before),
      types,
      from,
      to,
    });
    const edges = entries.map((node) => ({ cursor: encodeCursor(node.position), node }));
    const pageInfo = {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor,
      endCursor: edges[edges.length - 1]?.cursor,
    };
    return { edges, pageInfo };
  }

  @Query(() => [UsageBucket], { description: 'Credits spent in [from, to), per bucket, net of refunded spends.' })
  creditUsage(
    @Args(() => CreditUsageArgs) { workspaceId, from, to, groupBy }: CreditUsageArgs,
    @Ctx() context: GraphQLContext,
  ): UsageBucket[] {
    requireWorkspaceAccess(context, workspaceId);
    if (!(from < to)) throw badInput('from must be earlier than to.');
    const range = `${workspaceId}/${groupBy}/${from.toISOString()}/${to.toISOString()}`;
    return context.services.queries.usage(workspaceId, from, to, groupBy).map(({ key, credits, count }) => ({
      id: `${range}/${key}`,
      key,
      credits,
      count,
      ...(groupBy === 'ACTION' && { action: key as UsageBucket['action'] }),
      ...(groupBy === 'MEMBER' && { memberId: key }),
      ...(groupBy === 'DAY' && { day: key }),
    }));
  }

  @Query(() => WorkspaceCredits, {
    description: 'The balance breakdown exactly as it was at an instant, from the events.',
  })
  async creditBalanceAt(
    @Args(() => CreditBalanceAtArgs) { workspaceId, at }: CreditBalanceAtArgs,
    @Ctx() context: GraphQLContext,
  ): Promise<WorkspaceCredits> {
    requireWorkspaceAccess(context, workspaceId);
    return context.services.queries.creditBalanceAt(workspaceId, at);
  }

  @Subscription(() => WorkspaceCredits, {
    description:
      'The balance breakdown once it changed (over graphql-ws on /graphql): changes applied together, as a burst of spends, come as one message with the breakdown after the last.',
    subscribe: ({ args, context }: SubscribeResolverData<unknown, WorkspaceArgs, GraphQLContext>) => {
      const { workspaceId } = args;
      requireWorkspaceAccess(context, workspaceId);
      return context.services.pubSub.subscribe(WORKSPACE_CREDITS_CHANGED, workspaceId);
    },
  })
  workspaceCreditsChanged(
    @Root() workspaceId: string,
    @Args(() => WorkspaceArgs) _args: WorkspaceArgs,
    @Ctx() context: GraphQLContext,
  ): WorkspaceCredits {
    return context.services.queries.workspaceCredits(workspaceId);
  }
}
