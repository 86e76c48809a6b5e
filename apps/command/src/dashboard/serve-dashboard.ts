import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type INestApplication, Logger } from '@nestjs/common';
import express, { type NextFunction, type Request, type Response } from 'express';

export const DASHBOARD_PATH = '/dashboard';

/**
 * The dashboard's pages load only this origin's script and style (no inline script, no eval), call only this
 * origin's API, and cannot be framed. Its responses carry no key material and are never cached as a page.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Where `npm run build` puts the dashboard (vite, apps/dashboard/vite.config.mts): dist/dashboard, found from
 * both the compiled (dist/apps/command/src/dashboard) and the source (apps/command/src/dashboard) location.
 * DASHBOARD_DIR overrides it (the browser tests serve their own build).
 */
export function dashboardDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DASHBOARD_DIR) return resolve(env.DASHBOARD_DIR);
  const candidates = [resolve(__dirname, '../../../../dashboard'), resolve(__dirname, '../../../../dist/dashboard')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[candidates.length - 1];
}

/** Serves the built customer dashboard (docs/dashboard.md) at /dashboard/, same origin as /api. */
export function serveDashboard(app: INestApplication, dir: string = dashboardDir()): void {
  if (!existsSync(join(dir, 'index.html'))) {
    new Logger('dashboard').warn(`no dashboard build in ${dir} (npm run build makes it); ${DASHBOARD_PATH}/ answers 404`);
  }
  app.use(DASHBOARD_PATH, dashboardHeaders);
  app.use(
    DASHBOARD_PATH,
    express.static(dir, {
      index: 'index.html',
      redirect: true,
      dotfiles: 'ignore',
      fallthrough: true,
      setHeaders: (res, path) => {
        // Vite names assets by content hash: they never change. The page itself is always fetched anew.
        res.setHeader('Cache-Control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    }),
  );
}

function dashboardHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  next();
}
