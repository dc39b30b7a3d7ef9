import { createDecipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';

type Env = Record<string, string | undefined>;
export type Links = Record<string, Record<string, unknown>>;

/** The names infra/ gives the linked components; each stands for one or more config variables. */
export const LINKS = {
  database: 'Database',
  files: 'Files',
  queue: 'IngestQueue',
  openaiApiKey: 'OpenaiApiKey',
  openaiBaseUrl: 'OpenaiBaseUrl',
  apiKeys: 'ApiKeys',
} as const;

/**
 * The resources SST links to this function: `SST_RESOURCE_<Name>` variables, and the encrypted file it bundles
 * (SST_KEY_FILE, AES-256-GCM under SST_KEY with a zero nonce, tag last) that holds secrets out of the environment.
 */
export function readLinks(env: Env): Links {
  const links: Links = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('SST_RESOURCE_') && value)
      links[key.slice('SST_RESOURCE_'.length)] = JSON.parse(value);
  }
  if (env.SST_KEY && env.SST_KEY_FILE) {
    const data = readFileSync(env.SST_KEY_FILE);
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(env.SST_KEY, 'base64'), Buffer.alloc(12));
    decipher.setAuthTag(data.subarray(-16));
    const plain = Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]);
    Object.assign(links, JSON.parse(plain.toString('utf8')));
  }
  return links;
}

const text = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/**
 * The environment loadConfig reads on Lambda: the function's own variables, with linked resources filling in
 * the variables they stand for. A variable set explicitly wins over its link.
 */
export function linkedEnv(env: Env, links: Links = readLinks(env)): Env {
  const out: Env = { ...env };
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined && !text(env[name])) out[name] = value;
  };
  const db = links[LINKS.database] as
    | { host: string; port: number; username: string; password: string; database: string }
    | undefined;
  if (db) {
    const auth = `${encodeURIComponent(db.username)}:${encodeURIComponent(db.password)}`;
    // RDS Proxy presents an ACM certificate, which Node's own CA list verifies: full TLS verification.
    set(
      'DATABASE_URL',
      `postgres://${auth}@${db.host}:${db.port}/${encodeURIComponent(db.database)}?sslmode=verify-full`,
    );
  }
  const bucket = text(links[LINKS.files]?.name);
  if (bucket) {
    set('BLOB_STORE', 's3');
    set('S3_BUCKET', bucket);
  }
  const queue = text(links[LINKS.queue]?.url);
  if (queue) {
    set('JOB_QUEUE', 'sqs');
    set('SQS_QUEUE_URL', queue);
  }
  set('OPENAI_API_KEY', text(links[LINKS.openaiApiKey]?.value));
  set('OPENAI_BASE_URL', text(links[LINKS.openaiBaseUrl]?.value));
  set('API_KEYS', text(links[LINKS.apiKeys]?.value));
  return out;
}
