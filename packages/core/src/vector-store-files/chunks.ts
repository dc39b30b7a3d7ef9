import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import { visibleChunk } from '../ingest/chunk-write.ts';
import type { FileChunks } from './schemas.ts';
import { getVectorStoreFile } from './service.ts';

interface ChunkRow {
  chunk_index: number;
  page: number | null;
  tokens: number;
  char_start: number;
  char_end: number;
  content: string;
}

/** A completed file's chunks with their index, page, token count and range in the parsed text (…/content). */
export async function vectorStoreFileChunks(
  sql: Sql,
  projectId: string,
  vectorStoreId: string,
  fileId: string,
): Promise<FileChunks> {
  const file = await getVectorStoreFile(sql, projectId, vectorStoreId, fileId);
  if (file.status !== 'completed') {
    throw new ApiError(
      'invalid_request',
      `File ${fileId} is ${file.status}; its chunks are available once completed.`,
      'file_id',
    );
  }
  const rows = await sql<ChunkRow[]>`
    SELECT chunk_index, page, tokens, char_start, char_end, content FROM chunks c
    WHERE vector_store_id = ${vectorStoreId} AND file_id = ${fileId} AND ${visibleChunk(sql, sql`c`)}
    ORDER BY chunk_index`;
  return {
    object: 'vector_store.file.chunks',
    file_id: fileId,
    data: rows.map((r) => ({
      object: 'vector_store.file.chunk',
      chunk_index: r.chunk_index,
      page: r.page,
      tokens: r.tokens,
      char_start: r.char_start,
      char_end: r.char_end,
      text: r.content,
    })),
  };
}
