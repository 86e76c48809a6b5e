// Architecture rules, checked by `npm run depcheck` (CI's "dependency rule" step). The layering is described in
// docs/architecture.md. Each rule says what it protects; an exception, if one is ever needed, is named in its rule.

/** The pure core: decisions and key material, testable and reusable without any framework, database or bus. */
const PURE_LIBS = '^libs/(domain|key-material)/';
/** Test files may reach across apps (an e2e test boots the apps it talks to); application code may not. */
const TEST_FILES = ['\\.spec\\.ts$', '\\.e2e-spec\\.ts$', '\\.spec-helper\\.ts$', '/test/'];

module.exports = {
  forbidden: [
    {
      name: 'pure-libs-no-infrastructure',
      severity: 'error',
      comment: 'libs/domain and libs/key-material import no NestJS, Kysely, pg or NATS code.',
      from: { path: PURE_LIBS },
      to: { path: '(^|/)node_modules/(@nestjs/|kysely/|pg/|nats/)' },
    },
    {
      name: 'pure-libs-no-other-libs',
      severity: 'error',
      comment: 'libs/domain and libs/key-material depend on each other at most, never on another @keys lib.',
      from: { path: PURE_LIBS },
      to: { path: '^libs/', pathNot: PURE_LIBS },
    },
    {
      name: 'libs-not-to-apps',
      severity: 'error',
      comment: 'Libraries serve the apps; an app is never a library of a library.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'apps-not-to-other-apps',
      severity: 'error',
      comment: "An app's code never imports another app's internals (shared code belongs in a lib). Test files may.",
      from: { path: '^apps/([^/]+)/', pathNot: TEST_FILES },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'libs-through-their-index',
      severity: 'error',
      comment: 'Outside a lib, only its index is imported (`@keys/<lib>`); its other files are its own business.',
      from: { path: '^(apps|test|bench)/' },
      to: { path: '^libs/[^/]+/', pathNot: '^libs/[^/]+/src/index\\.ts$' },
    },
    {
      name: 'libs-through-their-index-between-libs',
      severity: 'error',
      comment: 'A lib imports another lib only through its index (`@keys/<lib>`), never a relative path into it.',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/', pathNot: ['^libs/$1/', '^libs/[^/]+/src/index\\.ts$'] },
    },
    {
      name: 'no-deep-lib-alias',
      severity: 'error',
      comment: '`@keys/<lib>/...` reaches past the index (and does not resolve through the tsconfig paths anyway).',
      from: {},
      to: { path: '^@keys/[^/]+/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing would hide a dependency from every rule above.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-circular-between-libs',
      severity: 'error',
      comment:
        'Libraries form a hierarchy: no import from one lib to another closes a cycle. Checked per module, so test ' +
        'files (which nothing imports) never close one: a lib test may set up with a higher lib.',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/', pathNot: '^libs/$1/', circular: true },
    },
  ],
  options: {
    // Type-only imports count: they tie the code to the other module's definitions all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Packages are checked where they are imported, not cruised themselves.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    // `@keys/<lib>` resolves through the tsconfig paths to libs/<lib>/src/index.ts, as for tsc and Jest.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
