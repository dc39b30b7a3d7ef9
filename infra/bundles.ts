import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Functions deploy the bundles `npm run build` writes (dist/<name>/index.mjs, handler `index.handler`): what
 * was measured and tested is what runs. Deploying without them would ship an empty function.
 */
export function bundle(name: 'api' | 'worker' | 'migrate' | 'maintenance') {
  const dir = join('dist', name);
  if (!existsSync(join(dir, 'index.mjs'))) {
    throw new Error(
      `${dir}/index.mjs is missing: run \`npm run build\` before \`sst deploy\` (npm run deploy does both).`,
    );
  }
  return { bundle: dir, handler: 'index.handler', runtime: 'nodejs24.x', architecture: 'arm64' } as const;
}

/** Variables every function gets: RDS Proxy multiplexes transactions, so no named prepared statements. */
export const baseEnvironment = {
  LOG_LEVEL: 'info',
  DATABASE_PREPARE: 'false',
  DATABASE_STATEMENT_TIMEOUT_MS: '30000',
};
