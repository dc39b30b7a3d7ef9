import { z } from 'zod';
import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { VectorStoreObject } from '../vector-stores/schemas.ts';
import { deleteVectorStore, getVectorStore, insertVectorStore } from '../vector-stores/service.ts';

/** MAIA's CreateVectorStoreRequest: a name, metadata of any JSON, an optional expiry in days. */
export const MaiaStoreCreate = z.object({
  name: z.string().min(1).max(256),
  metadata: z.record(z.string().max(256), z.unknown()).nullish(),
  expires_after: z
    .object({
      anchor: z.literal('last_active_at').default('last_active_at'),
      days: z.number().int().min(1).max(3650),
    })
    .nullish(),
});
export type MaiaStoreCreate = z.infer<typeof MaiaStoreCreate>;

/** MAIA's limit/offset/order listing query. */
export const MaiaListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
  order: z.enum(['asc', 'desc']).default('desc'),
});
export type MaiaListQuery = z.infer<typeof MaiaListQuery>;

/** A store as MAIA's VectorStoreResponse shows it. */
export function toMaiaStore(s: VectorStoreObject) {
  const metadata = s.metadata as Record<string, unknown>;
  return {
    id: s.id,
    object: 'vector_store' as const,
    name: s.name ?? '',
    status: s.status,
    file_counts: {
      in_progress: s.file_counts.in_progress,
      completed: s.file_counts.completed,
      cancelled: s.file_counts.cancelled,
      failed: s.file_counts.failed,
      total: s.file_counts.total,
    },
    metadata: Object.keys(metadata).length ? metadata : null,
    created_at: s.created_at,
    updated_at: s.last_active_at ?? s.created_at,
    expires_at: s.expires_at,
  };
}
export type MaiaStore = ReturnType<typeof toMaiaStore>;

const storeNotFound = () => new ApiError('not_found', 'Vector store not found', 'vector_store_id');

/** Creates a store (visible to the OpenAI mount too); metadata is kept as sent. */
export async function createMaiaStore(sql: Sql, projectId: string, p: MaiaStoreCreate): Promise<MaiaStore> {
  const id = await insertVectorStore(sql, projectId, {
    name: p.name,
    metadata: (p.metadata ?? {}) as Record<string, string>,
    expires_after: p.expires_after ? { anchor: 'last_active_at', days: p.expires_after.days } : undefined,
  });
  return toMaiaStore(await getVectorStore(sql, projectId, id));
}

export async function getMaiaStore(sql: Sql, projectId: string, id: string): Promise<MaiaStore> {
  try {
    return toMaiaStore(await getVectorStore(sql, projectId, id));
  } catch (err) {
    throw err instanceof ApiError && err.code === 'not_found' ? storeNotFound() : err;
  }
}

/** MAIA's list: newest first by default, `offset` rows skipped, one more fetched to tell `has_more`. */
export async function listMaiaStores(sql: Sql, projectId: string, q: MaiaListQuery) {
  const order = q.order === 'asc' ? sql`created_at ASC, id ASC` : sql`created_at DESC, id DESC`;
  const ids = await sql<{ id: string }[]>`
    SELECT id FROM vector_stores WHERE project_id = ${projectId}
    ORDER BY ${order} LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
  const page = ids.slice(0, q.limit);
  const data = await Promise.all(page.map((r) => getMaiaStore(sql, projectId, r.id)));
  return {
    object: 'list' as const,
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: ids.length > q.limit,
  };
}

export async function deleteMaiaStore(sql: Sql, projectId: string, id: string) {
  try {
    return await deleteVectorStore(sql, projectId, id);
  } catch (err) {
    throw err instanceof ApiError && err.code === 'not_found' ? storeNotFound() : err;
  }
}
