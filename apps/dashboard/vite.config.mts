import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The customer dashboard (docs/dashboard.md): Preact compiled by esbuild's automatic JSX runtime, no plugin.
// The command app serves the output at /dashboard/ (apps/command/src/dashboard/serve-dashboard.ts).
export default defineConfig({
  root: here,
  base: '/dashboard/',
  publicDir: 'public',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../../dist/dashboard', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No inline script or style anywhere (the CSP has no 'unsafe-inline'), no source maps in what is served.
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
  },
  logLevel: 'warn',
});
