import { describe, expect, it } from 'vitest';
import { seededDataDir } from './seeded.ts';
import { expectStartFailure, startServer } from './server.ts';

describe('npm start', () => {
  it('refuses a bad config with one line that names the variable', async () => {
    const { code, output } = await expectStartFailure({ PORT: 'eighty' });
    expect(code).toBe(1);
    expect(output.trim()).toMatch(/^Invalid configuration: PORT .*"eighty"/);
    expect(output.trim().split('\n')).toHaveLength(1);
  });

  it('serves /health, refuses a second server on the same DATA_DIR and a changed dimension', async () => {
    const dir = await seededDataDir();
    const server = await startServer({ DATA_DIR: dir });
    try {
      const res = await fetch(`${server.url}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        version: expect.any(String),
        database: { status: 'ok' },
        openai_api_key_set: false,
      });
      const second = await expectStartFailure({ DATA_DIR: dir });
      expect(second.code).toBe(1);
      expect(second.output).toMatch(/DATA_DIR .* is in use by another server \(pid \d+\)/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
    expect(server.output()).toContain('stopped cleanly');

    const mismatch = await expectStartFailure({ DATA_DIR: dir, EMBEDDING_DIMENSIONS: '32' });
    expect(mismatch.code).toBe(1);
    expect(mismatch.output).toContain('EMBEDDING_DIMENSIONS is 32 but the database was created with 64');

    // A lock left by a killed server does not keep the next one out.
    const again = await startServer({ DATA_DIR: dir });
    expect(await again.stop('SIGKILL')).toBe(null);
    const third = await startServer({ DATA_DIR: dir });
    expect((await fetch(`${third.url}/health`)).status).toBe(200);
    await third.stop();
  });
});
