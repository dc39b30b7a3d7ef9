// npm run keys -- create --project NAME [--name LABEL] | list | revoke ID
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createServices } from '../services.ts';
import { createKey, listKeys, revokeKey } from './keys.ts';

const usage = 'usage: npm run keys -- create --project NAME [--name LABEL] | list | revoke ID';

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { project: { type: 'string' }, name: { type: 'string' } },
  });
  const [command, id] = positionals;
  if (command === 'create' && !values.project) {
    console.error('create needs --project NAME');
    return 2;
  }
  if (!(command === 'create' || command === 'list' || (command === 'revoke' && id))) {
    console.error(usage);
    return 2;
  }
  const config = loadConfig();
  const { db } = await createServices(config, 'cli', { logger: createLogger({ level: 'warn' }) });
  try {
    if (command === 'create') {
      const { key, info } = await createKey(db.sql, values.project!, values.name);
      console.log(`created ${info.id} for project ${info.project_name} (${info.project_id})`);
      console.log(`key (shown once, store it now): ${key}`);
    } else if (command === 'list') {
      for (const k of await listKeys(db.sql)) {
        const state = k.revoked_at ? `revoked ${k.revoked_at.toISOString()}` : 'active';
        console.log(
          `${k.id}\t${k.project_name}\t${k.prefix}\t${k.source}\t${state}\tlast used ${k.last_used_at?.toISOString() ?? 'never'}`,
        );
      }
    } else {
      await revokeKey(db.sql, id!);
      console.log(`revoked ${id}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof ConfigError ? err.message : `keys: ${(err as Error).message}`);
    process.exit(1);
  },
);
