import { describe, expect, it, vi } from 'vitest';
import { testConfig } from '../../../../test/config.ts';
import { createLogger } from '../logger.ts';
import { createEmbeddingProvider } from './provider.ts';

describe('createEmbeddingProvider', () => {
  it('chooses by EMBEDDING_PROVIDER, auto meaning openai when a key is set', () => {
    const silent = createLogger({ level: 'silent' });
    const pick = (env: Record<string, string>) => createEmbeddingProvider(testConfig(env), silent);
    expect(pick({ EMBEDDING_PROVIDER: 'auto', OPENAI_API_KEY: 'sk-x' })).toMatchObject({
      kind: 'openai',
      semantic: true,
      model: 'text-embedding-3-small',
      dimensions: 64,
    });
    expect(pick({ EMBEDDING_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-x' }).kind).toBe('openai');
    expect(pick({ EMBEDDING_PROVIDER: 'local', OPENAI_API_KEY: 'sk-x' })).toMatchObject({
      kind: 'local',
      semantic: false,
    });
    expect(pick({}).kind).toBe('local');
  });

  it('warns once that auto without a key is lexical, and not when local is chosen', async () => {
    // A fresh module: the warning is once per process.
    vi.resetModules();
    const { createEmbeddingProvider } = await import('./provider.ts');
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    createEmbeddingProvider(testConfig({ EMBEDDING_PROVIDER: 'local' }), logger);
    expect(lines).toEqual([]);
    createEmbeddingProvider(testConfig(), logger);
    createEmbeddingProvider(testConfig(), logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WARN \[embedding\].*lexical.*not semantic/);
  });
});
