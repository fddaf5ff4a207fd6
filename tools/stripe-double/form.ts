/**
 * Stripe's wire format on the way in: form-encoded bodies with bracketed keys, decoded into objects
 * and arrays; parameters read as Stripe reads them (everything arrives as strings), `expand[]`
 * included; and Stripe's error shape for what it refuses.
 */

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    readonly extra: { code?: string; param?: string } = {},
  ) {
    super(message);
  }
}

/** A bug in the double answers 500 (as Stripe would) instead of crashing the test process. */
export const asStripeApiError = (error: unknown): StripeApiError =>
  error instanceof StripeApiError
    ? error
    : new StripeApiError(
        500,
        'api_error',
        `Stripe double failure: ${error instanceof Error ? error.message : String(error)}`,
      );

export const invalid = (message: string, extra: { code?: string; param?: string } = {}): StripeApiError =>
  new StripeApiError(400, 'invalid_request_error', message, extra);

/**
 * An id Stripe does not know: 404 for the object a URL names (`param` 'id', or the path's own
 * name for some objects), 400 for an id given as a parameter.
 */
export const noSuch = (kind: string, id: string, param = 'id', status = 404): StripeApiError =>
  new StripeApiError(status, 'invalid_request_error', `No such ${kind}: '${id}'`, { code: 'resource_missing', param });

type FormTree = { [key: string]: FormValue };
type FormValue = string | FormTree | FormValue[];

const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Decodes Stripe's form encoding: `line_items[0][price_data][unit_amount]=5000` and
 * `metadata[workspaceId]=acme` become nested objects; objects keyed 0..n-1 become arrays.
 */
export function decodeStripeForm(raw: string): Record<string, unknown> {
  const root: FormTree = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    const path = splitKey(key);
    let node: FormTree = root;
    path.forEach((segment, index) => {
      const name = segment === '' ? String(Object.keys(node).length) : segment; // a[]=x appends
      if (UNSAFE_KEYS.has(name)) throw invalid(`Invalid parameter name: ${key}`);
      if (index === path.length - 1) {
        node[name] = value;
        return;
      }
      const child = node[name];
      if (typeof child !== 'object' || Array.isArray(child)) node[name] = {};
      node = node[name] as FormTree;
    });
  }
  return toArrays(root) as Record<string, unknown>;
}

function splitKey(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) return [key];
  const nested = [...(match[2] ?? '').matchAll(/\[([^[\]]*)\]/g)].map((part) => part[1] ?? '');
  return [match[1] ?? key, ...nested];
}

function toArrays(value: FormValue): FormValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const converted: FormTree = {};
  for (const key of keys) converted[key] = toArrays(value[key] as FormValue);
  const isList = keys.length > 0 && keys.every((key, index) => key === String(index));
  return isList ? keys.map((key) => converted[key] as FormValue) : converted;
}

// Parameter reading (everything arrives as strings)

export type Params = Record<string, unknown>;

export const isRecord = (value: unknown): value is Params =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export function refuseUnknown(params: Params, allowed: readonly string[], parent?: string): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) {
      const param = parent ? `${parent}[${key}]` : key;
      throw invalid(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });
    }
  }
}

export function optionalString(params: Params, key: string, param = key): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`Invalid string: ${param}`, { param });
  return value;
}

export function requiredString(params: Params, key: string, param = key): string {
  const value = optionalString(params, key, param);
  if (value === undefined || value === '') {
    throw invalid(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
  }
  return value;
}

export function optionalInteger(params: Params, key: string, param = key): number | undefined {
  const value = optionalString(params, key, param);
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) {
    throw invalid(`Invalid integer: ${value}`, { code: 'parameter_invalid_integer', param });
  }
  return Number(value);
}

/** `expand[]`: the fields of the answer to replace by the objects they name; Stripe refuses any other. */
export function expansions(params: Params, expandable: readonly string[]): string[] {
  const value = params.expand;
  if (value === undefined || value === '') return [];
  return (Array.isArray(value) ? value : [value]).map((field: unknown) => {
    if (typeof field !== 'string' || !expandable.includes(field)) {
      throw invalid(`This property cannot be expanded (${String(field)}).`, { param: 'expand' });
    }
    return field;
  });
}

/** A field of an answer as `expand[]` asks for it: the object its id names, or the id. */
export const expanded = <T>(
  id: string | null,
  expand: string[],
  field: string,
  from: Map<string, T>,
): T | string | null => (id !== null && expand.includes(field) ? (from.get(id) ?? id) : id);

export function metadataParam(params: Params, key: string, param = key): Record<string, string> {
  const value = params[key];
  if (value === undefined || value === '') return {};
  if (!isRecord(value)) throw invalid(`Invalid object: ${param}`, { param });
  const entries = Object.entries(value);
  if (entries.length > 50) throw invalid('Metadata may have at most 50 keys.', { param });
  const metadata: Record<string, string> = {};
  for (const [name, item] of entries) {
    if (typeof item !== 'string') throw invalid(`Invalid metadata value: ${param}[${name}]`, { param });
    if (name.length > 40) throw invalid(`Metadata keys can be at most 40 characters: ${name}`, { param });
    if (item.length > 500) throw invalid(`Metadata values can be at most 500 characters: ${name}`, { param });
    if (item !== '') metadata[name] = item; // Stripe treats an empty value as "unset"
  }
  return metadata;
}
