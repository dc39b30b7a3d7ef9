import type { Logger } from '@vsdb/core/logger';
import type { Services } from '@vsdb/core/services';

/** What a handler reaches through the context: the process's services, and who is calling. */
export type AppEnv = {
  Variables: {
    deps: Services;
    projectId: string;
    apiKey: string | undefined;
    requestId: string;
    log: Logger;
  };
};
