// Lambda: schema migrations. Invoked by every deploy whose migrations changed, on a schedule, and by hand.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Config } from '@vsdb/core/config';
import { assertDimensions, migrateDown, migrateUp, migrationStatus } from '@vsdb/core/db/migrate';
import { createServices } from '@vsdb/core/services';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { lambdaConfig } from './lambda/container.ts';
import { waitBudget, waitForDatabase } from './lambda/wait.ts';

/** `{}` or a scheduled event means up; `{"command":"down","steps":1}` rolls back. Unknown fields are ignored. */
export const MigrateEvent = z.object({
  command: z.enum(['up', 'down', 'status']).default('up'),
  steps: z.number().int().min(1).max(100).default(1),
});

export interface MigrateResult {
  command: 'up' | 'down' | 'status';
  /** Migrations applied (up) or rolled back (down) by this invocation, in order. */
  changed: { version: number; name: string }[];
  status: { version: number; name: string; state: string }[];
}

/** The SQL files: MIGRATIONS_DIR if set, else beside the bundle (the build copies them there), else the source tree. */
function migrationsDir(config: Config): string | undefined {
  if (config.MIGRATIONS_DIR) return config.MIGRATIONS_DIR;
  const beside = fileURLToPath(new URL('./migrations/', import.meta.url));
  return existsSync(beside) ? beside : undefined;
}

export async function handler(event: unknown = {}, context?: Context): Promise<MigrateResult> {
  const parsed = MigrateEvent.safeParse(event ?? {});
  if (!parsed.success) throw new Error(`Bad migrate event: ${parsed.error.issues[0]!.message}`);
  const { command, steps } = parsed.data;
  const config = lambdaConfig();
  const dir = migrationsDir(config);
  const opts = { dimensions: config.EMBEDDING_DIMENSIONS, ...(dir ? { dir } : {}) };
  // Its own short-lived client: the function runs rarely, and takes an advisory lock per migration.
  const { db, logger } = await createServices(config, 'migrate');
  const log = logger.child('migrate');
  try {
    // On a new stage the proxy's target registers late: wait for it, within this invocation's time.
    await waitForDatabase(db.sql, log, waitBudget(context?.getRemainingTimeInMillis?.()));
    const changed =
      command === 'up'
        ? await migrateUp(db.sql, opts)
        : command === 'down'
          ? await migrateDown(db.sql, { ...opts, steps })
          : [];
    if (command === 'up') await assertDimensions(db.sql, config.EMBEDDING_DIMENSIONS);
    const result: MigrateResult = {
      command,
      changed: changed.map((m) => ({ version: m.version, name: m.name })),
      status: (await migrationStatus(db.sql, dir)).map((s) => ({
        version: s.version,
        name: s.name,
        state: s.state,
      })),
    };
    log.info(`migrate ${command}`, { changed: result.changed.map((m) => `${m.version}_${m.name}`) });
    return result;
  } finally {
    await db.close();
  }
}
