#!/usr/bin/env node
/* global require, process, __dirname */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, run by node as it is */
'use strict';
// keysctl launcher (package.json "bin" and `npm run keysctl`): runs the compiled CLI from dist/, which starts in
// a fraction of the time compiling TypeScript at every call took. In a checkout it first rebuilds (`npm run
// build`) when dist/ is missing or older than a source, so an edit is never silently ignored.
const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
const entry = join(root, 'dist', 'apps', 'keysctl', 'src', 'main.js');

/** Newest modification time (ms) of the TypeScript sources and build settings keysctl's dist/ is made from. */
function newestSource() {
  let newest = 0;
  const visit = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') visit(path);
      } else if (entry.name.endsWith('.ts') && !/\.(spec|e2e-spec|spec-helper)\.ts$/.test(entry.name)) {
        newest = Math.max(newest, statSync(path).mtimeMs);
      }
    }
  };
  // Only what keysctl is built from: an edit to another app does not make it stale.
  for (const dir of [join('apps', 'keysctl', 'src'), 'libs']) visit(join(root, dir));
  for (const file of ['tsconfig.json', 'tsconfig.build.json']) newest = Math.max(newest, statSync(join(root, file)).mtimeMs);
  return newest;
}

function stale() {
  if (!existsSync(entry)) return true;
  // An installed copy without sources runs what it has.
  if (!existsSync(join(root, 'tsconfig.build.json'))) return false;
  return statSync(entry).mtimeMs < newestSource();
}

if (process.env.KEYSCTL_NO_BUILD !== '1' && stale()) {
  process.stderr.write('keysctl: dist/ is missing or older than the sources; running npm run build\n');
  // The build's output goes to stderr: stdout is keysctl's result only.
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    // tsc writes its output even when it fails, but tsc-alias then does not run: mark the entry stale so the
    // next call builds again instead of running that half-built output.
    if (existsSync(entry)) utimesSync(entry, new Date(0), new Date(0));
    process.stderr.write(`keysctl: npm run build failed (exit ${build.status ?? build.signal}); fix the errors above and retry\n`);
    process.exit(1);
  }
}

require(entry).runCli();
