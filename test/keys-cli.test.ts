import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededDataDir } from './seeded.ts';
import { expectStartFailure, startServer } from './server.ts';

const run = (script: string, args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, [join(import.meta.dirname, '..', script), ...args], {
    env: { PATH: process.env.PATH ?? '', EMBEDDING_DIMENSIONS: '64', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
  });

describe('keys and open access', () => {
  it('creates, lists and revokes keys; the server then requires them', async () => {
    const dir = await seededDataDir();
    const keys = (...args: string[]) => run('packages/core/src/auth/keys-cli.ts', args, { DATA_DIR: dir });
    const created = keys('create', '--project', 'acme', '--name', 'ci');
    expect(created.status).toBe(0);
    const key = /key \(shown once, store it now\): (\S+)/.exec(created.stdout)?.[1];
    const id = /created (key_\w+)/.exec(created.stdout)?.[1];
    expect(key).toMatch(/^sk-vs-/);
    const listed = keys('list');
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('acme');
    expect(listed.stdout).not.toContain(key);
    expect(keys('revoke', 'key_nope').status).toBe(1);
    expect(keys('bogus').status).toBe(2);

    // With a stored key the server is no longer open, even on a non-loopback HOST.
    const server = await startServer({ DATA_DIR: dir, HOST: '0.0.0.0' });
    const url = server.url.replace('0.0.0.0', '127.0.0.1');
    expect((await fetch(`${url}/v1/vector_stores`)).status).toBe(401);
    expect(
      (await fetch(`${url}/v1/vector_stores`, { headers: { authorization: `Bearer ${key}` } })).status,
    ).toBe(200);
    await server.stop();

    expect(keys('revoke', id!).status).toBe(0);
    expect(keys('list').stdout).toMatch(/revoked/);
    // No key left: open access is refused off loopback...
    const refused = await expectStartFailure({ DATA_DIR: dir, HOST: '0.0.0.0' });
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/No API key is configured and HOST 0\.0\.0\.0/);
    // ...and allowed on loopback, saying so in the log.
    const open = await startServer({ DATA_DIR: dir });
    expect(open.output()).toContain('no API key configured');
    expect((await fetch(`${open.url}/v1/vector_stores`)).status).toBe(200);
    await open.stop();
  });
});
