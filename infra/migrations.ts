import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnvironment, bundle } from './bundles.ts';
import { database } from './database.ts';
import { vpc } from './network.ts';
import { settings } from './stage.ts';

/** A digest of migrations/*.sql: the deploy-time invocation below runs again exactly when it changes. */
export function migrationsHash(dir = 'migrations'): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(dir, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

/** Applies pending migrations (each under an advisory lock) and returns what it applied; `{"command":"down"}` rolls back. */
export const migrator = new sst.aws.Function('Migrator', {
  ...bundle('migrate'),
  description: 'Schema migrations: run on deploy when migrations change, daily, and by hand',
  timeout: '15 minutes', // Lambda's maximum: the wait for the database plus the migrations
  memory: '512 MB',
  vpc,
  link: [database],
  environment: {
    ...baseEnvironment,
    DATABASE_POOL_MAX: '1',
    // Index builds on a large table outlast the API's statement bound.
    DATABASE_STATEMENT_TIMEOUT_MS: '0',
    EMBEDDING_DIMENSIONS: settings.embeddingDimensions,
  },
  logging: { retention: '3 months', format: 'json' },
});

/**
 * Invoked by every deploy whose migrations (or embedding dimension) changed, before the new api and worker
 * are deployed (they depend on it); a migration that fails fails the deploy.
 */
export const migrateOnDeploy = new aws.lambda.Invocation(
  'MigrateOnDeploy',
  {
    functionName: migrator.name,
    input: JSON.stringify({ command: 'up' }),
    triggers: { migrations: migrationsHash(), dimensions: settings.embeddingDimensions },
  },
  // The invocation is synchronous: give it the migrator's whole timeout (it waits up to 12 minutes for a
  // proxy target that registers late, packages/functions/src/lambda/wait.ts) and a minute more.
  { dependsOn: [database], customTimeouts: { create: '16m', update: '16m' } },
);

/** And daily: a no-op unless a deploy's invocation was skipped or failed half way. */
new sst.aws.CronV2('MigrateSchedule', {
  function: migrator.arn,
  schedule: 'rate(1 day)',
  event: { command: 'up' },
});
