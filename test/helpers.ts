import { readFileSync } from 'node:fs';
import { type Config, testConfig } from '@vsdb/core/config';
import { type Database, openEmbedded } from '@vsdb/core/db/client';
import { inject } from 'vitest';

let snapshot: Blob | undefined;

/** A fresh, migrated embedded database (in memory), restored from the suite's snapshot. */
export async function freshDatabase(config: Config = testConfig()): Promise<Database> {
  snapshot ??= new Blob([readFileSync(inject('snapshotPath'))]);
  return openEmbedded(config, { snapshot });
}
