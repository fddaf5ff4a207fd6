/**
 * The authorization questions resolvers ask. Each either returns the caller or throws the GraphQL
 * error the contract names: UNAUTHENTICATED without a valid token, FORBIDDEN for anything else.
 */
import { GraphQLError } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import { canAccessWorkspace, canManageBilling, type Principal } from '../auth/principal';
import type { CommandMetadata } from '../commands/command-handler';
import type { GraphQLContext } from './context';

export function requirePrincipal(context: GraphQLContext): Principal {
  if (context.principal) return context.principal;
  throw new GraphQLError(context.authError ?? 'Sign in: send Authorization: Bearer <token>.', {
    extensions: { code: 'UNAUTHENTICATED' },
  });
}

const forbidden = (message: string): GraphQLError => new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

/*
 * The refusals never name the workspace: where it was found from an id the caller sent (a hold, an
 * endpoint, a purchase), naming it would tell an outsider whose the id is.
 */

export function requireWorkspaceAccess(context: GraphQLContext, workspaceId: string): Principal {
  const principal = requirePrincipal(context);
  if (!canAccessWorkspace(principal, workspaceId)) {
    throw forbidden('Your token gives no access to this workspace, or to the workspace this id belongs to.');
  }
  return principal;
}

export function requireBillingManager(context: GraphQLContext, workspaceId: string): Principal {
  const principal = requirePrincipal(context);
  if (!canManageBilling(principal, workspaceId)) {
    throw forbidden('Managing billing of this workspace needs its OWNER or BILLING_MANAGER role, or an admin.');
  }
  return principal;
}

export function requireAdmin(context: GraphQLContext): Principal {
  const principal = requirePrincipal(context);
  if (!principal.admin) throw forbidden('Only admins may do this.');
  return principal;
}

/** Who the command side records as having caused what a caller asked for. */
export const asActor = (principal: Principal): CommandMetadata => ({ actorId: principal.subject });

/**
 * `@Authorized(PURCHASE_MONEY)` on a field of an object that has a `workspaceId`: what was paid
 * for that workspace's purchases is for those who manage its billing (OWNER, BILLING_MANAGER,
 * admin). Anyone else who may see the purchase gets null for the field and a FORBIDDEN error.
 */
export const PURCHASE_MONEY = 'PURCHASE_MONEY';

/**
 * `@Authorized(ENTRY_MONEY)` on a ledger entry's `money`: PURCHASE_MONEY's rule for the entries
 * that carry money; the others (a spend, an allowance) have none to hide, and answer null without
 * an error, so a member's page of spends is not a page of refusals.
 */
export const ENTRY_MONEY = 'ENTRY_MONEY';

/**
 * Backs @Authorized(): every resolver class requires a valid token before its own checks run, and
 * fields marked with a rule (PURCHASE_MONEY, ENTRY_MONEY) check it against the object they belong to.
 */
export const authChecker: AuthChecker<GraphQLContext> = ({ context, root }, rules) => {
  const principal = requirePrincipal(context);
  const money =
    rules.includes(PURCHASE_MONEY) || (rules.includes(ENTRY_MONEY) && (root as { money?: unknown }).money != null);
  if (money) {
    const { workspaceId } = root as { workspaceId: string };
    if (!canManageBilling(principal, workspaceId)) {
      throw forbidden(
        'Only owners, billing managers and admins may read money: what purchases and top-ups were paid, charged or refunded, and the card and terms they are charged under.',
      );
    }
  }
  return true;
};
