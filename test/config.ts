import { type Config, loadConfig } from '@vsdb/core/config';

/** A config for tests and the bench: defaults plus the given overrides, never the process environment. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', EMBEDDING_DIMENSIONS: '64', ...overrides });
}
