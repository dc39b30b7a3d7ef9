// The doctor's check of chunk drafts (migration 0007): a draft no job can still publish is dead weight,
// hidden from every reader but kept on disk and in the HNSW index.
import type { Sql } from './db/client.ts';
import { discardDrafts } from './ingest/chunk-write.ts';

export interface OrphanDraft {
  vector_store_id: string;
  file_id: string;
  generation: string;
  /** The file's status, or null when the file is no longer attached. */
  status: string | null;
  chunks: number;
}

/**
 * Drafts of attempts that no job still holds. With `exclusive` (the doctor holds the embedded database, so
 * no server runs) that is every draft. Otherwise a draft whose file is gone or no longer in progress, or whose
 * file no worker holds (its lease released), and older than `minAgeSeconds` (a job that just failed or was
 * cancelled removes its own draft a moment later). A draft of a file whose lease has an owner is left alone,
 * even expired: that worker may still be publishing it.
 */
export function orphanDrafts(sql: Sql, exclusive: boolean, minAgeSeconds: number) {
  return sql<OrphanDraft[]>`
    SELECT d.vector_store_id, d.file_id, d.generation::text, v.status,
      (SELECT count(*)::int FROM chunks c WHERE c.vector_store_id = d.vector_store_id
         AND c.file_id = d.file_id AND c.generation = d.generation) AS chunks
    FROM chunk_drafts d LEFT JOIN vector_store_files v USING (vector_store_id, file_id)
    WHERE ${exclusive} OR (
      d.created_at < now() - make_interval(secs => ${minAgeSeconds})
      AND (v.file_id IS NULL OR v.status <> 'in_progress' OR v.lease_owner IS NULL))
    ORDER BY d.created_at LIMIT 10000`;
}

export const describeDraft = (d: OrphanDraft) =>
  `${d.vector_store_id}/${d.file_id} generation ${d.generation} (${d.chunks} hidden chunks, file ${d.status ?? 'detached'})`;

/** Removes the drafts and their chunks, in the short statements ingestion uses (statistics stay exact). */
export async function removeDrafts(sql: Sql, drafts: OrphanDraft[]): Promise<string[]> {
  const done: string[] = [];
  for (const d of drafts) {
    await discardDrafts(sql, { vectorStoreId: d.vector_store_id, fileId: d.file_id }, d.generation);
    done.push(`removed orphan draft ${describeDraft(d)}`);
  }
  return done;
}
