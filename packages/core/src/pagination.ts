import type postgres from 'postgres';
import type { Sql } from './db/client.ts';
import { ApiError } from './errors.ts';
import type { ListQuery } from './schemas.ts';

export type Fragment = postgres.PendingQuery<postgres.Row[]>;

/**
 * Keyset pagination on (created_at, id), which never skips or repeats a row while others are inserted.
 * `cursorRow(id)` finds the (created_at, id) of the object named by after/before in the same scope.
 */
export async function paginate<T>(
  sql: Sql,
  q: ListQuery,
  cols: { createdAt: Fragment; id: Fragment },
  cursorRow: (id: string) => Promise<{ created_at: Date; id: string } | undefined>,
  page: (where: Fragment, order: Fragment, limit: number) => Promise<T[]>,
): Promise<{ rows: T[]; hasMore: boolean }> {
  const cursorId = q.after ?? q.before;
  let where = sql`true`;
  // Walking "before" a cursor means walking the other way and flipping the page back.
  const forward = q.before === undefined;
  const ascending = (q.order === 'asc') === forward;
  if (cursorId !== undefined) {
    const row = await cursorRow(cursorId);
    if (!row)
      throw new ApiError(
        'invalid_request',
        `No object found with id '${cursorId}' to page from.`,
        q.after !== undefined ? 'after' : 'before',
      );
    const key = sql`(${cols.createdAt}, ${cols.id})`;
    where = ascending
      ? sql`${key} > (${row.created_at}, ${row.id})`
      : sql`${key} < (${row.created_at}, ${row.id})`;
  }
  const order = ascending
    ? sql`${cols.createdAt} ASC, ${cols.id} ASC`
    : sql`${cols.createdAt} DESC, ${cols.id} DESC`;
  const rows = await page(where, order, q.limit + 1);
  const hasMore = rows.length > q.limit;
  const slice = rows.slice(0, q.limit);
  return { rows: forward ? slice : slice.reverse(), hasMore };
}
