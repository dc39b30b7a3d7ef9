import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Config } from '@vsdb/core/config';
import type { Database } from '@vsdb/core/db/client';
import { createLogger } from '@vsdb/core/logger';
import { createServices, type ServerServices } from '@vsdb/core/services';
import OpenAI from 'openai';
import { createApp } from '../packages/functions/src/app.ts';
import { testConfig } from './config.ts';
import { freshDatabase } from './helpers.ts';
import { tempDir } from './server.ts';

export interface TestApp {
  url: string;
  config: Config;
  db: Database;
  deps: ServerServices;
  /** An official SDK client pointed at this server. */
  client: (apiKey?: string) => OpenAI;
  close(): Promise<void>;
}

/** The real app on a real port over a fresh embedded database, with its worker running. */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig({ DATA_DIR: tempDir(), INGEST_LEASE_SECONDS: '10', ...env });
  const db = await freshDatabase(config);
  const deps = await createServices(config, 'server', {
    db,
    logger: createLogger({ level: config.LOG_LEVEL }),
  });
  deps.worker.start();
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    config,
    db,
    deps,
    client: (apiKey = config.API_KEYS[0] ?? 'sk-open') =>
      new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 }),
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await deps.worker.stop();
      await db.close();
    },
  };
}
