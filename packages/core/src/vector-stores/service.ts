import type { Sql, Tx } from '../db/client.ts';
import type { Fragment } from '../db/fragment.ts';
import { ApiError, notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { paginate } from '../pagination.ts';
import { type ListPage, type ListQuery, listPage, unix } from '../schemas.ts';
import type {
  FileCounts,
  VectorStoreCreateParams,
  VectorStoreObject,
  VectorStoreUpdateParams,
} from './schemas.ts';

interface StoreRow {
  id: string;
  name: string | null;
  description: string | null;
  metadata: Record<string, string>;
  expires_after: { anchor: 'last_active_at'; days: number } | null;
  expires_at: Date | null;
  created_at: Date;
  last_active_at: Date;
  expired: boolean;
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  usage_bytes: number;
}

/** File counts (and usage) of the vector_store_files rows `f` matching `where`, as one row. */
export const fileCountsOf = (sql: Sql | Tx, where: Fragment) => sql`
  SELECT count(*) FILTER (WHERE status = 'in_progress')::int AS in_progress,
         count(*) FILTER (WHERE status = 'completed')::int AS completed,
         count(*) FILTER (WHERE status = 'failed')::int AS failed,
         count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
         coalesce(sum(usage_bytes), 0)::bigint AS usage_bytes
  FROM vector_store_files f WHERE ${where}`;

/** The OpenAI file_counts object from counted columns. */
export const toFileCounts = (r: Omit<FileCounts, 'total'>): FileCounts => ({
  in_progress: r.in_progress,
  completed: r.completed,
  failed: r.failed,
  cancelled: r.cancelled,
  total: r.in_progress + r.completed + r.failed + r.cancelled,
});

/** Counts and usage are derived from the files on every read, so they always agree with them. */
export const storeSelect = (sql: Sql | Tx) => sql`
  SELECT vs.id, vs.name, vs.description, vs.metadata, vs.expires_after, vs.expires_at, vs.created_at, vs.last_active_at,
         coalesce(vs.expires_at <= now(), false) AS expired,
         c.in_progress, c.completed, c.failed, c.cancelled, c.usage_bytes
  FROM vector_stores vs
  CROSS JOIN LATERAL (${fileCountsOf(sql, sql`f.vector_store_id = vs.id`)}) c`;

function toStore(r: StoreRow): VectorStoreObject {
  return {
    id: r.id,
    object: 'vector_store',
    created_at: unix(r.created_at)!,
    // The spec's name is a string and its optional fields are absent, not null.
    name: r.name ?? '',
    ...(r.description === null ? {} : { description: r.description }),
    usage_bytes: r.usage_bytes,
    last_active_at: unix(r.last_active_at),
    status: r.expired ? 'expired' : r.in_progress > 0 ? 'in_progress' : 'completed',
    file_counts: toFileCounts(r),
    metadata: r.metadata,
    ...(r.expires_after ? { expires_after: r.expires_after } : {}),
    expires_at: unix(r.expires_at),
  };
}

/** Inserts the store row; attaching `file_ids` is the caller's next step (it owns the ingest queue). */
export async function insertVectorStore(
  tx: Sql | Tx,
  projectId: string,
  p: VectorStoreCreateParams,
): Promise<string> {
  const id = newId('vs_');
  const days = p.expires_after?.days;
  await tx`
    INSERT INTO vector_stores (id, project_id, name, description, metadata, expires_after, expires_at)
    VALUES (${id}, ${projectId}, ${p.name ?? null}, ${p.description ?? null}, ${tx.json(p.metadata ?? {})},
            ${p.expires_after ? tx.json(p.expires_after) : null},
            ${days === undefined ? null : tx`now() + make_interval(days => ${days})`})`;
  return id;
}

export async function getVectorStore(
  sql: Sql | Tx,
  projectId: string,
  id: string,
): Promise<VectorStoreObject> {
  const [row] = await sql<
    StoreRow[]
  >`${storeSelect(sql)} WHERE vs.id = ${id} AND vs.project_id = ${projectId}`;
  if (!row) throw notFound('vector store', id, 'vector_store_id');
  return toStore(row);
}

/** Fails with 404 unless the store exists in the project; with `usable`, also with 400 once it has expired. */
export async function assertVectorStore(
  sql: Sql | Tx,
  projectId: string,
  id: string,
  usable = false,
): Promise<void> {
  // usable = about to write under it: FOR KEY SHARE keeps a concurrent delete from removing it under the
  // caller's transaction (the delete waits; or it went first and this is a 404, not a foreign-key 500).
  const [row] = await sql<{ expired: boolean }[]>`
    SELECT coalesce(expires_at <= now(), false) AS expired FROM vector_stores WHERE id = ${id} AND project_id = ${projectId}
    ${usable ? sql`FOR KEY SHARE` : sql``}`;
  if (!row) throw notFound('vector store', id, 'vector_store_id');
  if (usable && row.expired)
    throw new ApiError('expired', `Vector store ${id} has expired; create a new one.`, 'vector_store_id');
}

/** Moves last_active_at (and so an expires_after window) on use. */
export async function touchVectorStore(sql: Sql | Tx, ids: string[]): Promise<void> {
  await sql`
    UPDATE vector_stores SET last_active_at = now(),
      expires_at = CASE WHEN expires_after IS NULL THEN NULL
                        ELSE now() + make_interval(days => (expires_after->>'days')::int) END
    WHERE id = ANY(${ids}) AND (expires_at IS NULL OR expires_at > now())`;
}

export async function listVectorStores(
  sql: Sql,
  projectId: string,
  q: ListQuery,
): Promise<ListPage<VectorStoreObject>> {
  const { rows, hasMore } = await paginate(
    sql,
    q,
    { createdAt: sql`vs.created_at`, id: sql`vs.id` },
    (id) => sql`SELECT created_at, id FROM vector_stores WHERE id = ${id} AND project_id = ${projectId}`,
    (where, order, limit) =>
      sql<
        StoreRow[]
      >`${storeSelect(sql)} WHERE vs.project_id = ${projectId} AND ${where} ORDER BY ${order} LIMIT ${limit}`,
  );
  return listPage(rows.map(toStore), hasMore);
}

export async function updateVectorStore(
  sql: Sql,
  projectId: string,
  id: string,
  p: VectorStoreUpdateParams,
): Promise<VectorStoreObject> {
  await assertVectorStore(sql, projectId, id);
  const sets = [];
  if (p.name !== undefined) sets.push(sql`name = ${p.name}`);
  if (p.metadata !== undefined) sets.push(sql`metadata = ${sql.json(p.metadata ?? {})}`);
  if (p.expires_after !== undefined) {
    sets.push(
      p.expires_after === null
        ? sql`expires_after = NULL, expires_at = NULL`
        : sql`expires_after = ${sql.json(p.expires_after)},
              expires_at = last_active_at + make_interval(days => ${p.expires_after.days})`,
    );
  }
  if (sets.length) {
    const assignments = sets.reduce((acc, s) => sql`${acc}, ${s}`);
    await sql`UPDATE vector_stores SET ${assignments} WHERE id = ${id} AND project_id = ${projectId}`;
  }
  return getVectorStore(sql, projectId, id);
}

/** Deletes the store; its files' attachments and chunks go with it (the files themselves stay). */
export async function deleteVectorStore(sql: Sql, projectId: string, id: string) {
  const rows =
    await sql`DELETE FROM vector_stores WHERE id = ${id} AND project_id = ${projectId} RETURNING id`;
  if (!rows.length) throw notFound('vector store', id, 'vector_store_id');
  return { id, object: 'vector_store.deleted' as const, deleted: true as const };
}
