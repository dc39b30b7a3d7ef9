import { createCipheriv, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@vsdb/core/config';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../../../test/server.ts';
import { LINKS, linkedEnv, readLinks } from './links.ts';

/** Encrypts links the way SST writes resource.enc into a function's bundle. */
function resourceFile(links: object) {
  const key = randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', key, Buffer.alloc(12));
  const data = Buffer.concat([cipher.update(JSON.stringify(links)), cipher.final(), cipher.getAuthTag()]);
  const file = join(tempDir('vsdb-links-'), 'resource.enc');
  writeFileSync(file, data);
  return { SST_KEY: key.toString('base64'), SST_KEY_FILE: file };
}

const linked = {
  [LINKS.database]: {
    host: 'db.proxy-x.us-east-1.rds.amazonaws.com',
    port: 5432,
    username: 'postgres',
    password: 'p@ss/w:rd',
    database: 'vectordb',
  },
  [LINKS.files]: { name: 'vectordb-files-abc' },
  [LINKS.queue]: { url: 'https://sqs.us-east-1.amazonaws.com/123456789012/IngestQueue' },
  [LINKS.openaiApiKey]: { value: 'sk-openai' },
  [LINKS.openaiBaseUrl]: { value: '' },
  [LINKS.apiKeys]: { value: 'sk-a,sk-b' },
};

describe('SST links -> config', () => {
  it('reads SST_RESOURCE_* variables and the encrypted resource file', () => {
    const env = {
      ...resourceFile(linked),
      SST_RESOURCE_App: JSON.stringify({ name: 'vectordb', stage: 'dev' }),
    };
    expect(readLinks(env)).toEqual({ ...linked, App: { name: 'vectordb', stage: 'dev' } });
    expect(() => readLinks({ ...env, SST_KEY: randomBytes(32).toString('base64') })).toThrow();
  });

  it('fills in the variables each link stands for, explicit variables winning', () => {
    const env = linkedEnv({ LOG_LEVEL: 'silent', S3_BUCKET: 'explicit-bucket' }, linked);
    const config = loadConfig(env);
    expect(config).toMatchObject({
      BLOB_STORE: 's3',
      S3_BUCKET: 'explicit-bucket',
      JOB_QUEUE: 'sqs',
      SQS_QUEUE_URL: linked.IngestQueue.url,
      OPENAI_API_KEY: 'sk-openai',
      API_KEYS: ['sk-a', 'sk-b'],
    });
    expect(config.OPENAI_BASE_URL).toBeUndefined(); // an empty secret means OpenAI itself
    const url = new URL(config.DATABASE_URL!);
    expect(decodeURIComponent(url.password)).toBe('p@ss/w:rd');
    expect(url.host).toBe('db.proxy-x.us-east-1.rds.amazonaws.com:5432');
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
  });

  it('leaves the environment alone outside SST', () => {
    expect(linkedEnv({ DATA_DIR: '/x' })).toEqual({ DATA_DIR: '/x' });
  });
});
