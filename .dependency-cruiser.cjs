/**
 * Layer rules (npm run lint), after Domain-Driven Hexagon's .dependency-cruiser.js. Type-only imports
 * count (tsPreCompilationDeps): a circle of types is still a circle of design. docs/architecture.md
 * draws the layers these rules hold.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type imports included: each file can be read after the files it imports.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'service-not-to-resolver',
      severity: 'error',
      comment:
        'Resolvers call services, never the other way round: a service knows nothing of GraphQL fields.',
      from: { path: '\\.(service|engine|loaders)\\.ts$' },
      to: { path: '\\.resolver\\.ts$' },
    },
    {
      name: 'context-only-in-resolvers-and-transports',
      severity: 'error',
      comment:
        'The per-request context (src/context.ts) is made by the transports and read by resolvers; services, ' +
        'loaders and the engine are handed what they need (a viewer, loaders, a connection).',
      from: {
        path: '^src/',
        pathNot: ['\\.resolver\\.ts$', '^src/transport/', '^src/context\\.ts$'],
      },
      to: { path: '^src/context\\.ts$' },
    },
    {
      name: 'loaders-not-to-services',
      severity: 'error',
      comment: 'Loaders are batch reads; services use them, not the other way round.',
      from: { path: '\\.loaders\\.ts$' },
      to: { path: '\\.service\\.ts$' },
    },
    {
      name: 'entity-is-a-leaf',
      severity: 'error',
      comment: 'Entities describe tables: they import other entities and shared enums, never behaviour.',
      from: { path: '\\.entity\\.ts$' },
      to: { path: '\\.(service|resolver|loaders|engine)\\.ts$|^src/(context|services|schema)\\.ts$' },
    },
    {
      name: 'common-not-to-features',
      severity: 'error',
      comment: 'src/common is shared by every feature, so it depends on none of them.',
      from: { path: '^src/common/' },
      to: { path: '^src/modules/' },
    },
    {
      name: 'src-not-to-tests-or-bench',
      severity: 'error',
      comment: 'The application never reaches into the tests or the benchmark.',
      from: { path: '^(src|migrations)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'entry-points-are-not-imported',
      severity: 'error',
      comment: 'src/main.ts starts the process; nothing imports it (src/start.ts is what tests start).',
      from: {},
      to: { path: '^src/main\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // The benchmark's peer (PostGraphile) has its own package.json, installed only by `npm run bench -- --peer`.
    exclude: { path: '^bench/peer/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
    },
  },
};
