import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { VectorStoreObject } from '../vector-stores/schemas.ts';
import { deleteVectorStore, getVectorStore, insertVectorStore } from '../vector-stores/service.ts';
import type {
  MaiaListQuery,
  MaiaStore,
  MaiaStoreCreate,
  MaiaStoreDeleted,
  MaiaStoreList,
} from './schemas.ts';

/** A store as MAIA's VectorStoreResponse shows it. */
export function toMaiaStore(s: VectorStoreObject): MaiaStore {
  const metadata = s.metadata as Record<string, unknown>;
  return {
    id: s.id,
    object: 'vector_store',
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
export async function listMaiaStores(sql: Sql, projectId: string, q: MaiaListQuery): Promise<MaiaStoreList> {
  const order = q.order === 'asc' ? sql`created_at ASC, id ASC` : sql`created_at DESC, id DESC`;
  const ids = await sql<{ id: string }[]>`
    SELECT id FROM vector_stores WHERE project_id = ${projectId}
    ORDER BY ${order} LIMIT ${q.limit + 1} OFFSET ${q.offset}`;
  const page = ids.slice(0, q.limit);
  const data = await Promise.all(page.map((r) => getMaiaStore(sql, projectId, r.id)));
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: ids.length > q.limit,
  };
}

export async function deleteMaiaStore(sql: Sql, projectId: string, id: string): Promise<MaiaStoreDeleted> {
  try {
    return await deleteVectorStore(sql, projectId, id);
  } catch (err) {
    throw err instanceof ApiError && err.code === 'not_found' ? storeNotFound() : err;
  }
}
