import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEmbedded } from '@vsdb/core/db/client';
import { inject } from 'vitest';
import { testConfig } from './config.ts';
import { tempDir } from './server.ts';

/** A DATA_DIR whose embedded database is already migrated (from the suite's snapshot): a handler opens it in ~1 s. */
export async function seededDataDir(): Promise<string> {
  const dir = tempDir();
  const snapshot = new Blob([readFileSync(inject('snapshotPath'))]);
  const db = await openEmbedded(testConfig(), { dataDir: join(dir, 'pgdata'), snapshot });
  await db.close();
  return dir;
}
