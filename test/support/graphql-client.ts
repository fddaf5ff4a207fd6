/** A small typed GraphQL client for the end-to-end tests: the documents come from codegen. */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type GraphQLFormattedError } from 'graphql';
import { ApplyPlanAllowanceDocument } from '../generated/graphql';
import { adminToken } from './server-process';

export interface GraphQLResponse<R> {
  status: number;
  data?: R | null;
  errors?: GraphQLFormattedError[];
}

export async function execute<R, V>(
  baseUrl: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token?: string,
): Promise<GraphQLResponse<R>> {
  const response = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<GraphQLResponse<R>, 'status'>) };
}

/** The data of a response that must have succeeded. */
export async function expectData<R, V>(
  baseUrl: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token?: string,
): Promise<R> {
  const response = await execute(baseUrl, document, variables, token);
  if (response.errors?.length || !response.data) {
    throw new Error(`expected data, got ${JSON.stringify(response.errors)}`);
  }
  return response.data;
}

/** The one error of a response that must have failed. */
export async function expectError<R, V>(
  baseUrl: string,
  document: TypedDocumentNode<R, V>,
  variables: V,
  token?: string,
): Promise<GraphQLFormattedError & { code: unknown }> {
  const response = await execute(baseUrl, document, variables, token);
  const [error] = response.errors ?? [];
  if (!error) throw new Error(`expected an error, got ${JSON.stringify(response.data)}`);
  return { ...error, code: error.extensions?.code };
}

/** The store's head position as /readyz reports it: unchanged means nothing was appended. */
export async function headPosition(baseUrl: string): Promise<string | null> {
  const response = await fetch(`${baseUrl}/readyz`);
  return ((await response.json()) as { head: string | null }).head;
}

const DAY = 24 * 60 * 60 * 1000;

/** Gives a workspace a plan's allowance for a period that began yesterday, as the subscription system does. */
export async function applyAllowance(baseUrl: string, workspaceId: string, planId = 'growth'): Promise<void> {
  const period = {
    periodStart: new Date(Date.now() - DAY).toISOString(),
    periodEnd: new Date(Date.now() + 29 * DAY).toISOString(),
  };
  await expectData(baseUrl, ApplyPlanAllowanceDocument, { input: { workspaceId, planId, ...period } }, adminToken());
}
