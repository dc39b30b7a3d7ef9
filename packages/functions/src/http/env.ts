import type { Logger } from '@vsdb/core/logger';
import type { Services } from '@vsdb/core/services';

/** What a handler reaches through the context: the process's services, and who is calling. */
export interface AppDeps extends Services {
  /** No key configured: every request belongs to the default project (only allowed on a loopback HOST). */
  openAccess: boolean;
}

export type AppEnv = {
  Variables: { deps: AppDeps; projectId: string; apiKey: string | undefined; requestId: string; log: Logger };
};
