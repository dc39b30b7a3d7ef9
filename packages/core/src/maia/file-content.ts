import type { Sql } from '../db/client.ts';
import { ApiError } from '../errors.ts';
import type { PageStart } from '../ingest/chunk.ts';
import { CONTENT_ITEM_CHARS, CONTENT_PAGE_CHARS } from '../limits.ts';

/** The parsed text cut into items: one per page (split when longer than CONTENT_ITEM_CHARS). */
export function contentItems(text: string, pages: readonly PageStart[] | null): string[] {
  const starts = pages?.length ? pages.map((p) => p.start) : [0];
  const items: string[] = [];
  starts.forEach((start, i) => {
    const end = starts[i + 1] ?? text.length;
    for (let at = start; at < end; at += CONTENT_ITEM_CHARS)
      items.push(text.slice(at, Math.min(end, at + CONTENT_ITEM_CHARS)));
  });
  return items.filter((t, i) => t.length > 0 || (i === 0 && items.length === 1));
}

/** One page of items from `from`, as OpenAI's `vector_store.file_content.page`. */
export function contentPage(items: readonly string[], from: number) {
  const data: { type: 'text'; text: string }[] = [];
  let chars = 0;
  let i = from;
  while (i < items.length && (data.length === 0 || chars + items[i]!.length <= CONTENT_PAGE_CHARS)) {
    chars += items[i]!.length;
    data.push({ type: 'text', text: items[i]! });
    i++;
  }
  const hasMore = i < items.length;
  return {
    object: 'vector_store.file_content.page' as const,
    data,
    has_more: hasMore,
    next_page: hasMore ? `page_${i}` : null,
  };
}

/** Parses a `next_page` token back into an item index. */
export function parsePageToken(token: string | undefined): number {
  if (token === undefined) return 0;
  const m = /^page_(\d{1,9})$/.exec(token);
  if (!m) throw new ApiError('invalid_request', `Invalid page token '${token}'.`, 'page');
  return Number(m[1]);
}

/** The parsed text of a completed file and where its pages start, or null if none is kept. */
export async function readFileText(
  sql: Sql,
  fileId: string,
): Promise<{ text: string; pages: PageStart[] | null } | null> {
  const [row] = await sql<{ text: string; pages: PageStart[] | null }[]>`
    SELECT f.text || coalesce((SELECT string_agg(p.text, '' ORDER BY p.part) FROM file_text_parts p
                               WHERE p.file_id = f.file_id), '') AS text, f.pages
    FROM file_texts f WHERE f.file_id = ${fileId}`;
  return row ?? null;
}
