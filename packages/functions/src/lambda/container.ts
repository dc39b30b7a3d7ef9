import { type Config, loadConfig, readEnv } from '@vsdb/core/config';
import { createServices, type Services } from '@vsdb/core/services';
import { linkedEnv } from './links.ts';

type LambdaRole = 'api' | 'worker' | 'maintenance';

/** What one Lambda container keeps between invocations: its services, one postgres.js client among them. */
const built = new Map<LambdaRole, Promise<Services>>();
let first: Promise<Services> | undefined;

/**
 * The container's services for its function's role, created on first use (a failure is retried by the next
 * invocation). A container runs one function; when several roles share a process (tests), they share the
 * first one's database and logger.
 */
export function services(role: LambdaRole = 'api'): Promise<Services> {
  let s = built.get(role);
  if (!s) {
    const base = first;
    s = (async () => {
      const shared = await base?.catch(() => undefined);
      if (!shared) return createServices(lambdaConfig(), role);
      return createServices(shared.config, role, { db: shared.db, logger: shared.logger });
    })();
    const mine = s;
    first ??= mine;
    built.set(role, mine);
    mine.catch(() => {
      built.delete(role);
      if (first === mine) first = undefined;
    });
  }
  return s;
}

/** Closes the database and forgets the services (tests; a container is otherwise just frozen). */
export async function disposeServices(): Promise<void> {
  const s = first;
  first = undefined;
  built.clear();
  await (await s?.catch(() => undefined))?.close();
}

/** The config every handler reads: the environment, with SST's linked resources filled in. */
export function lambdaConfig(): Config {
  return loadConfig(linkedEnv(readEnv()));
}
