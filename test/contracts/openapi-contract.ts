import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

// Holds HTTP responses to the OpenAPI document the app itself serves (/docs/openapi.json): the body against the
// schema of the operation and status, the documented response headers against theirs. The shared test client
// (apiClient in test/fixtures/command-app.fixture.ts) runs every response of the e2e suites through it.

export interface ObservedResponse {
  method: string;
  /** As requested, query string included. */
  path: string;
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when it was not JSON, or undefined for an empty body. */
  body: unknown;
}

type Schema = Record<string, unknown>;
interface ResponseObject {
  content?: Record<string, { schema?: Schema }>;
  headers?: Record<string, { schema?: Schema }>;
}
interface Operation {
  operationId?: string;
  responses?: Record<string, ResponseObject>;
}
interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

/** Response headers the API defines: each one sent must be documented for the operation and status. */
const OWN_HEADERS = /^(x-keys-.*|x-request-id|retry-after)$/i;
const COMPONENTS_ID = 'openapi-components';

/** Refs into the document's components, pointed at the copy registered with ajv. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([key, v]) => [
      key,
      key === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${COMPONENTS_ID}#/definitions/`) : rewriteRefs(v),
    ]),
  );
}

/** The path the server sees: fetch resolves dot segments (`/api/keys/..` is `/api/`) and drops the query. */
function requestedPathname(path: string): string {
  return new URL(path, 'http://127.0.0.1').pathname;
}

export interface OperationMatch {
  route: string;
  operation: Operation;
}

export class OpenApiContract {
  private readonly ajv: Ajv;
  private readonly routes: Array<{ method: string; template: string; pattern: RegExp; literal: number; operation: Operation }> = [];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: OpenApiDocument) {
    this.ajv = new Ajv({ strict: true, allErrors: true, discriminator: true });
    // OpenAPI's own annotations, which are no JSON Schema keywords.
    this.ajv.addKeyword('example');
    this.ajv.addKeyword('xml');
    this.ajv.addKeyword('externalDocs');
    addFormats(this.ajv);
    // Documented models are closed for the test: a field the document does not name fails, so nothing
    // reaches clients undocumented. (The document itself leaves them open, for clients to tolerate additions.)
    const definitions = Object.fromEntries(
      Object.entries(document.components?.schemas ?? {}).map(([name, schema]) => [
        name,
        schema.type === 'object' && schema.properties && schema.additionalProperties === undefined ? { ...schema, additionalProperties: false } : schema,
      ]),
    );
    this.ajv.addSchema({ $id: COMPONENTS_ID, definitions: rewriteRefs(definitions) as Record<string, Schema> });
    for (const [template, item] of Object.entries(document.paths)) {
      const source = template.split(/(\{[^}]+\})/).map((part) => (/^\{[^}]+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')));
      for (const [method, operation] of Object.entries(item)) {
        this.routes.push({ method: method.toUpperCase(), template, pattern: new RegExp(`^${source.join('')}/?$`), literal: template.replace(/\{[^}]+\}/g, '').length, operation });
      }
    }
    // A literal segment beats a parameter (/api/keys/x/roll before /api/keys/{id}).
    this.routes.sort((a, b) => b.literal - a.literal);
  }

  /** The document the running app serves, or null when the app serves none (e.g. the verifier's health port). */
  static async fetch(baseUrl: string): Promise<OpenApiContract | null> {
    const res = await fetch(`${baseUrl}/docs/openapi.json`);
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`GET ${baseUrl}/docs/openapi.json answered ${res.status}`);
    return new OpenApiContract((await res.json()) as OpenApiDocument);
  }

  match(method: string, path: string): OperationMatch | null {
    const pathname = requestedPathname(path);
    const route = this.routes.find((r) => r.method === method.toUpperCase() && r.pattern.test(pathname));
    return route ? { route: `${route.method} ${route.template}`, operation: route.operation } : null;
  }

  /** Null when the response conforms; otherwise a sentence naming route, status and what differs. */
  check(response: ObservedResponse): string | null {
    const { method, path, status } = response;
    const pathname = requestedPathname(path);
    // The UI's own files are no API.
    if (pathname === '/docs' || pathname.startsWith('/docs/')) return null;
    const matched = this.match(method, path);
    if (!matched) {
      // No such route: whatever answers (404 route_not_found, or the edge's 400/413/415 before routing) is an error.
      if (status < 400) return `${method} ${path} answered ${status} but the document has no such operation`;
      return this.validate(`${method} ${path} (no operation) ${status}`, 'error-body', { $ref: `${COMPONENTS_ID}#/definitions/ApiErrorBodySchema` }, response.body);
    }
    const where = `${matched.route} (${matched.operation.operationId ?? '?'}) ${status}`;
    const documented = matched.operation.responses?.[String(status)] ?? matched.operation.responses?.default;
    if (!documented) return `${where}: status ${status} is not documented (documented: ${Object.keys(matched.operation.responses ?? {}).join(', ')})`;

    const contentType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    if (response.body !== undefined) {
      const media = documented.content?.[contentType] ?? (contentType.endsWith('json') ? documented.content?.['application/json'] : undefined);
      if (!media) return `${where}: a ${contentType || 'untyped'} body is not documented (documented: ${Object.keys(documented.content ?? {}).join(', ') || 'no body'})`;
      if (media.schema) {
        const problem = this.validate(where, `${matched.route} ${status} ${contentType}`, media.schema, response.body);
        if (problem) return problem;
      }
    }
    for (const [name, value] of response.headers) {
      if (!OWN_HEADERS.test(name)) continue;
      const header = Object.entries(documented.headers ?? {}).find(([documentedName]) => documentedName.toLowerCase() === name.toLowerCase())?.[1];
      if (!header) return `${where}: header ${name} is not documented for this status`;
      if (header.schema) {
        // Header values are text; a number schema is about the number it spells.
        const typed = (header.schema.type === 'integer' || header.schema.type === 'number') && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        const problem = this.validate(`${where} header ${name}`, `${matched.route} ${status} header ${name}`, header.schema, typed);
        if (problem) return problem;
      }
    }
    return null;
  }

  private validate(where: string, cacheKey: string, schema: Schema, value: unknown): string | null {
    let validate = this.compiled.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as Schema);
      this.compiled.set(cacheKey, validate);
    }
    if (validate(value)) return null;
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ');
    return `${where}: ${JSON.stringify(value)?.slice(0, 300)} does not match the document: ${errors}`;
  }
}

export class OpenApiContractError extends Error {
  override readonly name = 'OpenApiContractError';
}

/**
 * A checker for the responses of the app at `baseUrl`: fetches its document at the first response and throws an
 * OpenApiContractError on a mismatch. One per client, not per URL: a later app may get the same port.
 * OPENAPI_CONTRACT=off switches it off, e.g. to see a test's own failure first.
 */
export function openApiChecker(baseUrl: string): (response: ObservedResponse) => Promise<void> {
  let contract: Promise<OpenApiContract | null> | null = null;
  return async (response) => {
    if (process.env.OPENAPI_CONTRACT === 'off') return;
    contract ??= OpenApiContract.fetch(baseUrl).catch((err: unknown) => {
      // Tried again at the next response rather than remembered.
      contract = null;
      throw err;
    });
    const problem = (await contract)?.check(response);
    if (problem) throw new OpenApiContractError(`response differs from /docs/openapi.json: ${problem}`);
  };
}
