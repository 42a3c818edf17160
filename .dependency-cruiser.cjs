/**
 * The layering of lib/ as rules (README, "How it works"): each folder imports only from the
 * folders below it, the core never imports its shells, and the protocol never imports the SDK.
 *
 *   errors.ts, io/  <  parquet/  <  embedding/  <  outputs/  <  pipeline/  <  aws/, local/  <  emulators/
 *   generate/ and cli/ sit beside them; functions/, bin/ and cdk/ are shells over lib/.
 */
const above = (...folders) => `^lib/(${folders.join('|')})/`;

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'No import cycles anywhere.', from: {}, to: { circular: true } },
    {
      name: 'lib-not-to-shells',
      severity: 'error',
      comment: 'The core never imports the Lambda handlers, the command lines or the CDK app.',
      from: { path: '^lib/' },
      to: { path: '^(functions|bin|cdk)/' },
    },
    {
      name: 'errors-at-the-bottom',
      severity: 'error',
      comment: 'lib/errors.ts imports nothing of the project.',
      from: { path: '^lib/errors\\.ts$' },
      to: { path: '^lib/' },
    },
    {
      name: 'io-at-the-bottom',
      severity: 'error',
      comment: 'io/ (byte sources, writers, concurrency) knows nothing of Parquet or the embedding.',
      from: { path: '^lib/io/' },
      to: { path: above('search', 'parquet', 'embedding', 'outputs', 'pipeline', 'aws', 'local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'parquet-knows-no-embedding',
      severity: 'error',
      comment: 'The Parquet reader knows nothing of the embedding, its planning, the pipeline or AWS.',
      from: { path: '^lib/parquet/' },
      to: { path: above('search', 'embedding', 'outputs', 'pipeline', 'aws', 'local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'embedding-is-pure',
      severity: 'error',
      comment: 'The embedding (spec, statistics, kernel, planning) knows no outputs, protocol, AWS or runner.',
      from: { path: '^lib/embedding/' },
      to: { path: above('search', 'outputs', 'pipeline', 'aws', 'local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'outputs-are-pure',
      severity: 'error',
      comment: 'The output formats know no protocol, AWS or runner.',
      from: { path: '^lib/outputs/' },
      to: { path: above('search', 'pipeline', 'aws', 'local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'core-without-sdk',
      severity: 'error',
      comment: 'Only lib/aws/ and lib/emulators/ (and the shells) talk to AWS through the SDK.',
      from: { path: '^lib/(io|parquet|embedding|outputs|search|pipeline|local|generate|cli)/|^lib/errors\\.ts$' },
      to: { path: '@aws-sdk/' },
    },
    {
      name: 'search-over-outputs',
      severity: 'error',
      comment: 'Search reads published outputs; it knows nothing of how they were made.',
      from: { path: '^lib/search/' },
      to: { path: above('pipeline', 'aws', 'local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'pipeline-over-ports',
      severity: 'error',
      comment: 'The job protocol runs over its ports; the adapters and runners sit above it.',
      from: { path: '^lib/pipeline/' },
      to: { path: above('aws', 'local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'aws-adapters-not-runners',
      severity: 'error',
      comment: 'The AWS adapters and handler factories do not import the one-machine runner or the emulators.',
      from: { path: '^lib/aws/' },
      to: { path: above('local', 'emulators', 'generate', 'cli') },
    },
    {
      name: 'local-runner-without-aws',
      severity: 'error',
      comment: 'The one-machine command uses no pipeline protocol, AWS adapter or emulator.',
      from: { path: '^lib/local/' },
      to: { path: above('pipeline', 'aws', 'emulators', 'cli') },
    },
    {
      name: 'handlers-are-wiring',
      severity: 'error',
      comment: 'functions/*/index.ts only wire a handler factory of lib/aws/ to SDK clients and config.',
      from: { path: '^functions/' },
      to: { path: '^lib/(?!aws/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|cdk\\.out|test/fixtures)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
