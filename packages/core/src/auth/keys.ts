import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';

export const DEFAULT_PROJECT_ID = 'proj_default';

export interface ApiKeyInfo {
  id: string;
  project_id: string;
  project_name: string;
  name: string | null;
  prefix: string;
  source: 'db' | 'env';
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Keys are stored as their sha256 only; looking one up by hash compares no secret byte by byte. */
export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

const prefixOf = (key: string) => `${key.slice(0, 8)}…`;

/** Makes API_KEYS the set of env keys of the default project: new ones added, removed ones revoked. */
export async function syncEnvKeys(sql: Sql, keys: string[]): Promise<void> {
  const hashes = keys.map(hashKey);
  await sql.begin(async (tx) => {
    for (const [i, key] of keys.entries()) {
      await tx`
        INSERT INTO api_keys (id, project_id, name, key_hash, prefix, source)
        VALUES (${newId('key_')}, ${DEFAULT_PROJECT_ID}, 'API_KEYS', ${hashes[i]!}, ${prefixOf(key)}, 'env')
        ON CONFLICT (key_hash) DO UPDATE SET revoked_at = NULL WHERE api_keys.source = 'env'`;
    }
    await tx`
      UPDATE api_keys SET revoked_at = now()
      WHERE source = 'env' AND revoked_at IS NULL AND NOT (key_hash = ANY(${hashes}::text[]))`;
  });
}

/** True when at least one key can authenticate (otherwise the server may only run open on loopback). */
export async function hasActiveKeys(sql: Sql): Promise<boolean> {
  const [row] = await sql`SELECT EXISTS (SELECT 1 FROM api_keys WHERE revoked_at IS NULL) AS any`;
  return Boolean(row?.any);
}

/** The project a key belongs to, or undefined for an unknown or revoked key. */
export async function projectForKey(sql: Sql, key: string): Promise<string | undefined> {
  const [row] = await sql<{ project_id: string }[]>`
    UPDATE api_keys SET last_used_at = now()
    WHERE key_hash = ${hashKey(key)} AND revoked_at IS NULL
    RETURNING project_id`;
  return row?.project_id;
}

/** Creates a key for a project (creating the project if new). The key is returned once and never stored. */
export async function createKey(
  sql: Sql,
  projectName: string,
  name?: string,
): Promise<{ key: string; info: ApiKeyInfo }> {
  const key = `sk-vs-${randomBytes(24).toString('base64url')}`;
  const id = newId('key_');
  await sql.begin(async (tx) => {
    const [project] = await tx<{ id: string }[]>`
      INSERT INTO projects (id, name) VALUES (${newId('proj_')}, ${projectName})
      ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name
      RETURNING id`;
    await tx`
      INSERT INTO api_keys (id, project_id, name, key_hash, prefix, source)
      VALUES (${id}, ${project!.id}, ${name ?? null}, ${hashKey(key)}, ${prefixOf(key)}, 'db')`;
  });
  const [info] = await listKeys(sql, id);
  return { key, info: info! };
}

/** Every key (or one), without the secret. */
export async function listKeys(sql: Sql, id?: string): Promise<ApiKeyInfo[]> {
  return sql<ApiKeyInfo[]>`
    SELECT k.id, k.project_id, p.name AS project_name, k.name, k.prefix, k.source, k.created_at, k.last_used_at, k.revoked_at
    FROM api_keys k JOIN projects p ON p.id = k.project_id
    WHERE ${id === undefined ? sql`true` : sql`k.id = ${id}`}
    ORDER BY k.created_at, k.id`;
}

/** Revokes a key by id; env keys are managed through API_KEYS instead. */
export async function revokeKey(sql: Sql, id: string): Promise<void> {
  const [row] = await sql<{ source: string }[]>`SELECT source FROM api_keys WHERE id = ${id}`;
  if (!row) throw new ApiError('not_found', `No API key with id '${id}'.`);
  if (row.source === 'env')
    throw new ApiError('invalid_request', `Key ${id} comes from API_KEYS; remove it there.`);
  await sql`UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = ${id}`;
}
