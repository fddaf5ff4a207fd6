/**
 * The authorization questions resolvers ask. Each either returns the caller or throws the GraphQL
 * error the contract names: UNAUTHENTICATED without a valid token, FORBIDDEN for anything else.
 */
import { GraphQLError } from 'graphql';
import type { AuthChecker } from 'type-graphql';
import { canAccessWorkspace, canManageBilling, type Principal } from '../auth/principal';
import type { GraphQLContext } from './context';

export function requirePrincipal(context: GraphQLContext): Principal {
  if (context.principal) return context.principal;
  throw new GraphQLError(context.authError ?? 'Sign in: send Authorization: Bearer <token>.', {
    extensions: { code: 'UNAUTHENTICATED' },
  });
}

const forbidden = (message: string): GraphQLError => new GraphQLError(message, { extensions: { code: 'FORBIDDEN' } });

export function requireWorkspaceAccess(context: GraphQLContext, workspaceId: string): Principal {
  const principal = requirePrincipal(context);
  if (!canAccessWorkspace(principal, workspaceId)) throw forbidden(`You have no access to workspace ${workspaceId}.`);
  return principal;
}

export function requireBillingManager(context: GraphQLContext, workspaceId: string): Principal {
  const principal = requirePrincipal(context);
  if (!canManageBilling(principal, workspaceId)) {
    throw forbidden(`Managing billing of workspace ${workspaceId} needs the OWNER or BILLING_MANAGER role.`);
  }
  return principal;
}

export function requireAdmin(context: GraphQLContext): Principal {
  const principal = requirePrincipal(context);
  if (!principal.admin) throw forbidden('Only admins may do this.');
  return principal;
}

/** Backs @Authorized(): every resolver class requires a valid token before its own checks run. */
export const authChecker: AuthChecker<GraphQLContext> = ({ context }) => {
  requirePrincipal(context);
  return true;
};
