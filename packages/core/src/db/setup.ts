import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { type Database, openDatabase } from './client.ts';
import { assertDimensions, migrateUp } from './migrate.ts';

/** Opens the configured database, applies pending migrations and checks the embedding dimension. */
export async function prepareDatabase(config: Config, logger: Logger): Promise<Database> {
  let db = await openDatabase(config);
  try {
    const applied = await migrateUp(db.sql, { dimensions: config.EMBEDDING_DIMENSIONS });
    for (const m of applied) logger.info(`applied migration ${m.version}_${m.name}`);
    if (applied.length && db.kind === 'embedded') {
      // Creating a database (initdb) and migrating it grow the engine's WebAssembly memory, which never
      // shrinks: about 200 MB that an engine opened afresh does not hold. Start it again (well under a second).
      await db.close();
      db = await openDatabase(config);
    }
    await assertDimensions(db.sql, config.EMBEDDING_DIMENSIONS);
    return db;
  } catch (err) {
    await db.close();
    throw err;
  }
}
