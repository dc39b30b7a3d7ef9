import { defineConfig } from 'vitest/config';

// Two tiers (docs/OPERATIONS.md, "Tests"):
// - `npm test` runs the `pglite` project: every unit, integration and contract test, in process, on the
//   embedded PGlite. No setup needed; under 3 minutes on an idle 2-core machine. It runs three files at a time
//   (package.json): its tests wait on threads, timers and sockets more than they compute, so a third worker
//   cut the run from 193 s to 148 s on two cores (a fourth: 133 s, with more contention).
// - `npm run test:engines` runs the rest: the tests that spawn processes or ingest for minutes (`spawn`), and the database tests
//   again on native PostgreSQL + pgvector (`native`, several connections per test) and the SDK contract
//   tests through PgBouncer in transaction mode (`pgbouncer`). It needs TEST_DATABASE_URL and
//   TEST_POOLER_URL (`bash scripts/postgres.sh` prints both); `.ci/run` runs both tiers.

/**
 * Tests that start processes (servers, CLIs, bundlers, their own PostgreSQL), and the event-loop-delay test,
 * which ingests the corpus and every pathological file of issue #14 (minutes of CPU): the second tier.
 */
const SPAWNING = [
  'test/build.test.ts',
  'test/cli.test.ts',
  'test/crash.test.ts',
  'test/crash-kill.test.ts',
  'test/doctor.test.ts',
  'test/keys-cli.test.ts',
  'test/poison.test.ts',
  'test/responsive.test.ts',
  'test/server.test.ts',
  'test/shutdown.test.ts',
];
/** Tests that need a real PostgreSQL and only make sense there. */
const NATIVE_ONLY = ['test/faults-statement-timeout.test.ts', 'test/races.test.ts'];
/** Tests of the embedded engine itself, or with no database at all: not repeated on native. */
const NOT_ON_NATIVE = [
  ...SPAWNING,
  'test/lambda.test.ts',
  'test/lambda-sdk.test.ts',
  'test/lambda-bounds.test.ts',
  'test/infra.test.ts',
  'test/bench-report.test.ts',
  'test/driver-patch.test.ts',
];
/** Contract tests (the official SDK as the client) and the pooler's own concerns, also run through PgBouncer. */
const CONTRACT = [
  'test/openai-sdk.test.ts',
  'test/search-sdk.test.ts',
  'test/maia.test.ts',
  'test/concurrency.test.ts',
  'test/faults-statement-timeout.test.ts',
  'test/startup-packet.test.ts',
  'test/lambda-startup.test.ts',
];
const DB_UNIT = [
  'packages/core/src/db/migrate.test.ts',
  'packages/core/src/embedding/cache.test.ts',
  'packages/core/src/ingest/chunk-write.test.ts',
  'packages/core/src/search/stats.test.ts',
  'packages/core/src/search/search.test.ts',
  'packages/core/src/search/filters.test.ts',
];

const native = (name: 'native' | 'pgbouncer', include: string[], exclude: string[] = []) => ({
  extends: true as const,
  test: {
    name,
    include,
    exclude,
    globalSetup: ['test/global-setup-native.ts'],
    env: { TEST_ENGINE: name },
  },
});

// Without a native server (most local runs) the native projects do not exist, so `npx vitest run FILE` stays
// on PGlite; asking for them anyway says what is missing.
const haveNative = Boolean(process.env.TEST_DATABASE_URL);
if (!haveNative && process.argv.some((a) => a === 'native' || a === 'pgbouncer'))
  throw new Error(
    'TEST_DATABASE_URL is not set: run `bash scripts/postgres.sh` (as root) and export the two URLs it prints as TEST_DATABASE_URL and TEST_POOLER_URL.',
  );

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'pglite',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...SPAWNING, ...NATIVE_ONLY],
          globalSetup: ['test/global-setup.ts'],
          env: { TEST_ENGINE: 'pglite' },
        },
      },
      {
        extends: true,
        test: {
          name: 'spawn',
          include: SPAWNING,
          globalSetup: ['test/global-setup.ts'],
          env: { TEST_ENGINE: 'pglite' },
        },
      },
      ...(haveNative
        ? [native('native', ['test/**/*.test.ts', ...DB_UNIT], NOT_ON_NATIVE), native('pgbouncer', CONTRACT)]
        : []),
    ],
  },
});
