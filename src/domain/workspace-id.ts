/**
 * What a workspace id may be. Ids become part of stream names, so a conservative alphabet keeps them
 * unambiguous; the API checks it on input, and so does everything that takes a workspace id from
 * outside (a payment provider's metadata, a token).
 */
export const WORKSPACE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

export const WORKSPACE_ID_RULE =
  'workspaceId must be 1-128 letters, digits, "_", ".", ":" or "-", starting with a letter or digit';

export const isWorkspaceId = (value: unknown): value is string =>
  typeof value === 'string' && WORKSPACE_ID_PATTERN.test(value);
