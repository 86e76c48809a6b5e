#!/usr/bin/env node
// Dependency rule (STYLE habit 3): the pure libs import no framework, database or bus code.
const fs = require('node:fs');
const path = require('node:path');

const PURE_LIBS = ['libs/domain', 'libs/key-material'];
const FORBIDDEN = [/^@nestjs\//, /^kysely($|\/)/, /^pg($|\/)/, /^nats($|\/)/, /^@keys\/(?!domain$|key-material$)/];
const root = path.resolve(__dirname, '..');
const violations = [];

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith('.ts')) check(full);
  }
}

function check(file) {
  const source = fs.readFileSync(file, 'utf8');
  const re = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|require\(\s*['"]([^'"]+)['"]\s*\)|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (FORBIDDEN.some((rule) => rule.test(spec))) violations.push(`${path.relative(root, file)} imports ${spec}`);
  }
}

for (const lib of PURE_LIBS) if (fs.existsSync(path.join(root, lib))) walk(path.join(root, lib));
if (violations.length) {
  console.error('Pure libraries must not import framework, database or bus code:');
  for (const v of violations) console.error(`  ${v}`);
  process.exit(1);
}
console.log(`dependency rule ok (${PURE_LIBS.join(', ')})`);
