import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { tempDir } from './server.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ API_KEYS: 'sk-cli' });
});
afterAll(() => app?.close());

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(
    process.execPath,
    [join(import.meta.dirname, '../packages/functions/src/cli.ts'), ...args],
    {
      env: { PATH: process.env.PATH ?? '', VECTORDB_URL: `${app.url}/v1`, VECTORDB_API_KEY: 'sk-cli' },
    },
  );
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => {
    stdout += d;
  });
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve) => proc.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run cli', () => {
  it('ingests a folder recursively, skips unsupported files, reports failures and exits non-zero', async () => {
    const dir = tempDir('vsdb-cli-');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'guide.md'), '# Guide\n\nThe deploy command is `make ship`.');
    writeFileSync(join(dir, 'notes.txt'), 'Meeting notes about the zebra migration.');
    writeFileSync(join(dir, 'sub', 'data.json'), JSON.stringify({ service: 'billing', owner: 'ana' }));
    writeFileSync(join(dir, 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    writeFileSync(join(dir, 'empty.txt'), '   ');
    const res = await cli([
      'ingest',
      dir,
      '--store',
      'handbook',
      '--attributes',
      'team=core',
      '--attributes',
      'year=2026',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('skipped (unsupported type): logo.png');
    expect(res.stderr).toMatch(/failed: empty\.txt: failed \(invalid_file/);
    expect(res.stdout).toMatch(/files: 3 ingested, 1 failed, 1 skipped; chunks: 3; time: [\d.]+ s/);

    const stores = await app.client('sk-cli').vectorStores.list();
    const store = stores.data.find((s) => s.name === 'handbook')!;
    expect(store.file_counts).toMatchObject({ completed: 3, failed: 1 });
    const files = await app.client('sk-cli').vectorStores.files.list(store.id, { filter: 'completed' });
    expect(files.data.every((f) => f.attributes?.team === 'core' && f.attributes?.year === 2026)).toBe(true);

    const ok = tempDir('vsdb-cli-ok-');
    writeFileSync(join(ok, 'more.md'), 'Another zebra document.');
    const again = await cli(['ingest', ok, '--store', store.id]);
    expect(again.code).toBe(0);

    const found = await cli(['search', 'handbook', 'zebra migration']);
    expect(found.code).toBe(0);
    expect(found.stdout).toMatch(/^ 1\. \d\.\d{3} {2}notes\.txt$/m);
  });

  it('explains its usage', async () => {
    const res = await cli(['nonsense']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('usage:');
  });
});
