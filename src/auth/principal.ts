/**
 * Who is calling, as the verified token says, and what each kind of caller may do. The rules live
 * here so that every resolver asks the same questions the same way.
 */
export const ROLES = ['OWNER', 'BILLING_MANAGER', 'MEMBER', 'SERVICE'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The user or service id (`sub`). */
  subject: string;
  workspaceId: string;
  role: Role;
  /** Platform staff and the subscription system: may act on any workspace. */
  admin: boolean;
}

/** Reads and spends: any role of that workspace, or an admin. */
export const canAccessWorkspace = (principal: Principal, workspaceId: string): boolean =>
  principal.admin || principal.workspaceId === workspaceId;

/** Managing billing (buying credits): an owner or billing manager of that workspace, or an admin. */
export const canManageBilling = (principal: Principal, workspaceId: string): boolean =>
  principal.admin ||
  (principal.workspaceId === workspaceId && (principal.role === 'OWNER' || principal.role === 'BILLING_MANAGER'));

/** One caller however many tokens it holds: what its request rate and open sockets are counted by. */
export const callerKey = (principal: Principal): string => `${principal.workspaceId}/${principal.subject}`;
