import type { NextFunction, Request, Response } from 'express';
import { counter, histogram } from './metrics';

const LABELS = ['method', 'route', 'status'] as const;

const requests = counter({ name: 'http_requests_total', help: 'HTTP requests answered, by method, route template and status', labelNames: LABELS });
const duration = histogram({
  name: 'http_request_duration_seconds',
  help: 'Time from receiving an HTTP request to the end of its response, by method, route template and status',
  labelNames: LABELS,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
});

/** Requests no route matched (404s, and requests refused before routing: 413, 415, bad JSON). */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts and times every request on `finish`, labelled by the route template Express matched (`/api/keys/:id`,
 * never the raw path, so ids never become label values) or `unmatched`. Register it first, so requests refused
 * before routing are counted too. Costs two label lookups per request, /metrics included.
 */
export function httpMetrics(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const labels = { method: METHODS.has(req.method) ? req.method : 'OTHER', route: routeTemplateOf(req), status: String(res.statusCode) };
    requests.inc(labels);
    duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
  });
  next();
}

/** The template of the route that handled the request (set by Express once a route matched), else `unmatched`. */
export function routeTemplateOf(req: { route?: unknown; baseUrl?: string }): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  // Nest answers 404 from a catch-all route (`{/*splat}`): that is no route of ours either.
  if (typeof path !== 'string' || path.includes('*')) return UNMATCHED_ROUTE;
  const template = `${req.baseUrl ?? ''}${path}`;
  return template === '' ? '/' : template;
}
