// npm run doctor [-- --repair] [--json] [--stale-seconds N] [--min-age-seconds N]
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { formatReport, runDoctor } from './doctor.ts';
import { createServices } from './services.ts';

const usage = 'usage: npm run doctor [-- --repair] [--json] [--stale-seconds N] [--min-age-seconds N]';

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        repair: { type: 'boolean' },
        json: { type: 'boolean' },
        'stale-seconds': { type: 'string' },
        'min-age-seconds': { type: 'string' },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${usage}`);
    return 2;
  }
  const seconds = (name: string) => {
    const raw = values[name];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigError(`--${name} takes a whole number of seconds, got "${raw}"`);
    return n;
  };
  const staleLeaseSeconds = seconds('stale-seconds');
  const minAge = seconds('min-age-seconds');
  const config = loadConfig();
  // Embedded: opening takes the DATA_DIR lock, so no server is running and nothing is between blob and row.
  const { db, blobs } = await createServices(config, 'migrate');
  try {
    const local = config.BLOB_STORE === 'local';
    const report = await runDoctor({
      sql: db.sql,
      blobRoot: local ? join(config.DATA_DIR, 'files') : undefined,
      blobs,
      staleLeaseSeconds: staleLeaseSeconds ?? config.INGEST_LEASE_SECONDS * 10,
      minAgeSeconds: minAge ?? (db.kind === 'embedded' ? 0 : 3600),
      exclusive: db.kind === 'embedded',
      repair: values.repair === true,
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (!local && !values.json) console.log('(BLOB_STORE=s3: blobs were not checked)');
    return report.ok ? 0 : 1;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const missing = (err as { code?: string }).code === '42P01';
    console.error(
      err instanceof ConfigError
        ? err.message
        : `doctor: ${(err as Error).message}${missing ? ' (the schema is not migrated: npm run migrate -- up)' : ''}`,
    );
    process.exit(2);
  },
);
