// `npm start`: the whole API on one Node process, over DATABASE_URL or the embedded Postgres.
import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from '@vsdb/core/config';
import { purgeAllDeletedBlobs } from '@vsdb/core/files/service';
import { releaseAllLeases } from '@vsdb/core/ingest/jobs';
import { runMaintenance } from '@vsdb/core/maintenance/run';
import { createServices } from '@vsdb/core/services';
import { ThreadPool } from '@vsdb/core/thread-pool';
import { createApp } from './app.ts';

const MAINTENANCE_EVERY_MS = 5 * 60_000;
/** On SIGTERM/SIGINT: how long in-flight requests (and jobs handing themselves back) may take. */
const DRAIN_MS = 10_000;
/** Then how long closing the pools and the database may take before the process exits anyway. */
const CLOSE_MS = 15_000;

/** True when `p` settles within `ms`. */
function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([
    p.then(
      () => true,
      () => true,
    ),
    late,
  ]).finally(() => clearTimeout(timer));
}

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
  const firstMaintenance = setTimeout(maintain, 10_000).unref();
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const ms = Math.round(performance.now() - started);
    log.info(`listening on http://${config.HOST}:${info.port} (ready in ${ms} ms)`);
    log.info(`web console: http://${config.HOST}:${info.port}/console, API reference: /docs`);
    // Jobs left over from the last run (a poison file among them, perhaps) start only once requests are served.
    deps.worker.start();
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second signal (Ctrl-C again): stop waiting. As safe as a kill.
      log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    clearInterval(maintenance);
    clearTimeout(firstMaintenance);
    log.info(
      `${signal}: stopping (in-flight requests have ${DRAIN_MS / 1000} s, ingest jobs are handed back)`,
    );
    let step = 'in-flight requests and ingest jobs';
    // Whatever hangs, the process ends: the database is crash-safe (as after a kill), and a job still held
    // is released at the next start (embedded) or when its lease expires.
    setTimeout(() => {
      log.error(`shutdown still waiting for ${step} after ${(DRAIN_MS + CLOSE_MS) / 1000} s; exiting`);
      process.exit(1);
    }, DRAIN_MS + CLOSE_MS).unref();
    const http = server as unknown as import('node:http').Server;
    const requests = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections(); // keep-alive connections with no request in flight
    // The worker stops claiming and hands its jobs back (their leases released) at once.
    const jobs = deps.worker.stop();
    if (!(await settlesWithin(Promise.all([requests, jobs]), DRAIN_MS))) {
      log.warn(
        `requests or ingest jobs were still running after ${DRAIN_MS / 1000} s; closing their connections`,
      );
      http.closeAllConnections();
    }
    step = 'the thread pools';
    await ThreadPool.closeAll();
    step = 'the database';
    await deps.db.close();
    log.info('stopped cleanly');
    process.exit(0);
  };
  const onSignal = (signal: string) =>
    stop(signal).catch((err: unknown) => {
      log.error('shutdown failed', { error: (err as Error).message });
      process.exit(1);
    });
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : `start-up failed: ${(err as Error).message}`);
  process.exit(1);
});
