// `npm start`: the whole API on one Node process, over DATABASE_URL or the embedded Postgres.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from '@vsdb/core/config';
import { purgeAllDeletedBlobs } from '@vsdb/core/files/service';
import { releaseAllLeases } from '@vsdb/core/ingest/jobs';
import { runMaintenance } from '@vsdb/core/maintenance/run';
import { createServices } from '@vsdb/core/services';
import { createApp } from './app.ts';

const MAINTENANCE_EVERY_MS = 5 * 60_000;

async function main(): Promise<void> {
  const started = performance.now();
  const config = loadConfig();
  const deps = await createServices(config, 'server');
  const { db, logger } = deps;
  const log = logger.child('server');
  log.info(db.kind === 'embedded' ? `embedded Postgres in ${config.DATA_DIR}` : 'connected to DATABASE_URL');
  // The embedded database is ours alone (DATA_DIR is locked), so no other worker can hold a lease in it.
  if (db.kind === 'embedded') await releaseAllLeases(db.sql);
  if (db.kind === 'embedded') {
    // Likewise no other process writes blobs here: clear what a killed one left half-done.
    const purged = await purgeAllDeletedBlobs(db.sql, deps.blobs);
    const swept = (await deps.blobs.sweepTemporary?.()) ?? 0;
    if (purged || swept) log.info(`cleared ${purged} deleted blobs and ${swept} unfinished uploads`);
  }
  // What the maintenance cron does on AWS: expire files and uploads, purge deleted blobs, re-queue lost jobs.
  const maintain = () =>
    runMaintenance(deps).catch((err: unknown) =>
      log.warn('maintenance pass failed', { error: (err as Error).message }),
    );
  const maintenance = setInterval(maintain, MAINTENANCE_EVERY_MS);
  maintenance.unref();
  setTimeout(maintain, 10_000).unref();
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const ms = Math.round(performance.now() - started);
    log.info(`listening on http://${config.HOST}:${info.port} (ready in ${ms} ms)`);
    log.info(`web console: http://${config.HOST}:${info.port}/console, API reference: /docs`);
    // Jobs left over from the last run (a poison file among them, perhaps) start only once requests are served.
    deps.worker.start();
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(maintenance);
    log.info(`${signal}: finishing in-flight requests`);
    // close() stops accepting and waits for open requests; the database closes after them.
    server.close(async () => {
      await deps.close();
      log.info('stopped cleanly');
      process.exit(0);
    });
    setTimeout(() => {
      log.error('in-flight requests did not finish within 25 s; closing anyway');
      deps.close().finally(() => process.exit(1));
    }, 25_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `start-up failed: ${(err as Error).message}`);
  process.exit(1);
});
