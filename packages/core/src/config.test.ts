import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CliConfigSchema, ConfigError, ConfigSchema, isLoopbackHost, loadConfig } from './config.ts';
import { normalizeDatabaseUrl } from './db/client.ts';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8000,
      HOST: '127.0.0.1',
      DATA_DIR: '.data',
      EMBEDDING_MODEL: 'text-embedding-3-small',
      EMBEDDING_DIMENSIONS: 1536,
      CHUNK_SIZE: 800,
      CHUNK_OVERLAP: 400,
      API_KEYS: [],
      CORS_ORIGINS: [],
      LOG_LEVEL: 'info',
    });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.OPENAI_API_KEY).toBeUndefined();
  });

  it('parses lists, numbers and case-insensitive levels', () => {
    const c = loadConfig({
      API_KEYS: 'a, b,,c',
      PORT: '9000',
      LOG_LEVEL: 'DEBUG',
      CORS_ORIGINS: 'https://x.test',
    });
    expect(c.API_KEYS).toEqual(['a', 'b', 'c']);
    expect(c.PORT).toBe(9000);
    expect(c.LOG_LEVEL).toBe('debug');
    expect(c.CORS_ORIGINS).toEqual(['https://x.test']);
  });

  it.each([
    [{ PORT: 'eighty' }, /^Invalid configuration: PORT .*\(got "eighty"\)$/],
    [{ PORT: '70000' }, /^Invalid configuration: PORT /],
    [{ EMBEDDING_DIMENSIONS: '0' }, /^Invalid configuration: EMBEDDING_DIMENSIONS /],
    [{ CHUNK_SIZE: '800', CHUNK_OVERLAP: '500' }, /CHUNK_OVERLAP must be at most half of CHUNK_SIZE/],
    [{ LOG_LEVEL: 'loud' }, /^Invalid configuration: LOG_LEVEL /],
    [{ DATABASE_URL: 'not a url' }, /^Invalid configuration: DATABASE_URL must be a postgres:\/\/ URL$/],
    [{ EMBEDDING_PROVIDER: 'openai' }, /OPENAI_API_KEY is required/],
  ])('refuses %o with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never echoes secrets in its message', () => {
    expect(() => loadConfig({ OPENAI_BASE_URL: 'sk-secret' })).toThrow(/OPENAI_BASE_URL/);
    expect(() => loadConfig({ OPENAI_BASE_URL: 'sk-secret' })).not.toThrow(/sk-secret/);
  });
});

describe('.env.example', () => {
  it('is a valid configuration that names only real variables', () => {
    const env = parseEnv(readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8'));
    expect(() => loadConfig(env)).not.toThrow();
    const known = new Set([...Object.keys(ConfigSchema.shape), ...Object.keys(CliConfigSchema.shape)]);
    const commented = [
      ...readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8').matchAll(
        /^# ?([A-Z][A-Z0-9_]+)=/gm,
      ),
    ].map((m) => m[1]!);
    expect([...Object.keys(env), ...commented].filter((k) => !known.has(k))).toEqual([]);
  });
});

describe('database URLs', () => {
  it("accepts MAIA's SQLAlchemy form as is", () => {
    const url = 'postgresql+asyncpg://u:p@db.example:5432/maia?sslmode=require';
    expect(loadConfig({ DATABASE_URL: url }).DATABASE_URL).toBe(url);
    expect(normalizeDatabaseUrl(url)).toBe('postgres://u:p@db.example:5432/maia?sslmode=require');
    expect(normalizeDatabaseUrl('postgresql://h/d')).toBe('postgres://h/d');
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', 'localhost', '::1', '127.1.2.3'].map(isLoopbackHost)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['0.0.0.0', '192.168.1.4', '::', 'example.com'].map(isLoopbackHost)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
