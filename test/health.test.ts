import { clientOptions, type Database } from '@vsdb/core/db/client';
import { createLogger } from '@vsdb/core/logger';
import { createServices } from '@vsdb/core/services';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../packages/functions/src/app.ts';
import { testConfig } from './config.ts';
import { viaPort } from './engine.ts';
import { freshDatabase } from './helpers.ts';
import { TcpProxy } from './tcp-proxy.ts';

const config = testConfig();
let embedded: Database;
let proxy: TcpProxy;
let sql: postgres.Sql;

beforeAll(async () => {
  embedded = await freshDatabase(config);
  const target = new URL(embedded.url!);
  proxy = new TcpProxy(target.hostname, Number(target.port));
  await proxy.start();
  sql = postgres(viaPort(embedded.url!, proxy.port), {
    ...clientOptions(config),
    connect_timeout: 1,
  });
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await proxy?.cut();
  await embedded?.close();
});

describe('/health', () => {
  it('is ok, degraded while the database is away, and ok again when it returns', async () => {
    const db = { sql, kind: 'external', close: async () => {} } as unknown as Database;
    const app = createApp(
      await createServices(config, 'server', { db, logger: createLogger({ level: 'silent' }) }),
    );

    const ok = await app.request('/health');
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ status: 'ok', database: { status: 'ok' } });

    await proxy.cut();
    const down = await app.request('/health');
    expect(down.status).toBe(503);
    const body = (await down.json()) as { status: string; database: { status: string; detail: string } };
    expect(body.status).toBe('degraded');
    expect(body.database.status).toBe('error');
    expect(body.database.detail).not.toBe('');
    // It said so from the refused connection, not by waiting out its own bound.
    expect(body.database.detail).not.toMatch(/no answer within/);

    await proxy.start();
    const back = await app.request('/health');
    expect(back.status).toBe(200);
  });
});
