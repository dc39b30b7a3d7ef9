import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// scripts/patch-postgres.mjs runs on every install; without it, a dropped database connection can end the
// process or hang queries forever (test/faults-db.test.ts shows both). Fail loudly if it did not run.
describe('the postgres.js guard', () => {
  it('is applied to every copy of the driver that Node or a bundler may load', () => {
    for (const dir of ['src', 'cjs/src', 'cf/src']) {
      const source = readFileSync(
        join(import.meta.dirname, '../node_modules/postgres', dir, 'connection.js'),
        'utf8',
      );
      for (const mark of ['1a', '1b', '2', '3'])
        expect(source, `${dir} ${mark}`).toContain(`vectordb patch ${mark}`);
      expect(source).not.toContain('!hadError && (query || sent.length)');
    }
  });
});
