#!/usr/bin/env node
// Parses and validates docs/asyncapi.yaml (or the file given) with @asyncapi/parser; exit 1 with the diagnostics
// on any error, so CI refuses a contract document that other tools could not read.
const fs = require('node:fs');
const path = require('node:path');
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');

async function main() {
  const file = path.resolve(process.argv[2] ?? path.join(__dirname, '..', 'docs', 'asyncapi.yaml'));
  const parser = new Parser();
  const { document, diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'), { source: file });
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning);
  for (const d of [...errors, ...warnings]) {
    const where = d.path?.length ? ` at ${d.path.join('.')}` : '';
    const line = d.range ? ` (line ${d.range.start.line + 1})` : '';
    console.error(`${d.severity === DiagnosticSeverity.Error ? 'error' : 'warning'} ${d.code}${where}${line}: ${d.message}`);
  }
  if (!document || errors.length > 0) {
    console.error(`${path.relative(process.cwd(), file)}: ${errors.length} error(s)`);
    process.exit(1);
  }
  console.log(`${path.relative(process.cwd(), file)}: valid AsyncAPI ${document.version()}, ${document.channels().length} channels, ${document.messages().length} messages (${warnings.length} warning(s))`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
