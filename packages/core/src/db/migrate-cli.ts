// npm run migrate -- up | down [n] | status | sql
import { ConfigError, loadConfig } from '../config.ts';
import { createServices } from '../services.ts';
import { migrateDown, migrateUp, migrationStatus, pendingSql } from './migrate.ts';

const [command = 'status', arg] = process.argv.slice(2);
const usage = 'usage: npm run migrate -- up | down [n] | status | sql';

async function main(): Promise<number> {
  if (!['up', 'down', 'status', 'sql'].includes(command)) {
    console.error(usage);
    return 2;
  }
  const steps = arg === undefined ? 1 : Number(arg);
  if (command === 'down' && !(Number.isInteger(steps) && steps > 0)) {
    console.error(`down takes a positive number of steps, got "${arg}"`);
    return 2;
  }
  const config = loadConfig();
  const { db } = await createServices(config, 'migrate');
  try {
    const opts = { dimensions: config.EMBEDDING_DIMENSIONS };
    if (command === 'up') {
      const done = await migrateUp(db.sql, opts);
      console.log(
        done.length ? done.map((m) => `applied ${m.version}_${m.name}`).join('\n') : 'nothing to apply',
      );
    } else if (command === 'down') {
      const done = await migrateDown(db.sql, { ...opts, steps });
      console.log(
        done.length
          ? done.map((m) => `rolled back ${m.version}_${m.name}`).join('\n')
          : 'nothing to roll back',
      );
    } else if (command === 'status') {
      for (const m of await migrationStatus(db.sql)) {
        console.log(
          `${String(m.version).padStart(4, '0')}_${m.name}\t${m.state}\t${m.applied_at?.toISOString() ?? ''}`,
        );
      }
    } else {
      process.stdout.write((await pendingSql(db.sql, opts)) || '-- nothing pending\n');
    }
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : `migrate failed: ${(err as Error).message}`);
    process.exit(1);
  },
);
