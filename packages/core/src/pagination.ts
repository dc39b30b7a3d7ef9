import type { Sql } from './db/client.ts';
import type { Fragment } from './db/fragment.ts';
import { ApiError } from './errors.ts';
import type { ListQuery } from './schemas.ts';

/**
 * Keyset pagination on (created_at, id), which never skips or repeats a row while others are inserted.
 * `cursor(id)` is a query for the (created_at, id) of the object named by after/before, in the same scope.
 * The cursor's key never leaves the database: created_at has microseconds, a JavaScript Date only
 * milliseconds, so a key read into JS and sent back would match its own row again on every page.
 * With both `after` and `before` the page is the window between them, walked from `after` (what the
 * official SDK sends when it auto-paginates a list that began with `before`).
 */
export async function paginate<T>(
  sql: Sql,
  q: ListQuery,
  cols: { createdAt: Fragment; id: Fragment },
  cursor: (id: string) => Fragment,
  page: (where: Fragment, order: Fragment, limit: number) => Promise<T[]>,
): Promise<{ rows: T[]; hasMore: boolean }> {
  // Walking "before" a cursor means walking the other way and flipping the page back.
  const forward = q.before === undefined || q.after !== undefined;
  const ascending = (q.order === 'asc') === forward;
  const key = sql`(${cols.createdAt}, ${cols.id})`;
  // A fragment is a thenable (awaiting it runs it): it leaves this async function wrapped.
  const bound = async (id: string, param: 'after' | 'before', op: '>' | '<') => {
    const [found] = await sql`SELECT 1 FROM (${cursor(id)}) c`;
    if (!found) throw new ApiError('invalid_request', `No object found with id '${id}' to page from.`, param);
    const row = sql`(SELECT c.created_at, c.id FROM (${cursor(id)}) c)`;
    return { cond: op === '>' ? sql`${key} > ${row}` : sql`${key} < ${row}` };
  };
  // In list order, `after` is a lower bound and `before` an upper one; descending flips the comparisons.
  const conds: Fragment[] = [];
  if (q.after !== undefined) conds.push((await bound(q.after, 'after', q.order === 'asc' ? '>' : '<')).cond);
  if (q.before !== undefined)
    conds.push((await bound(q.before, 'before', q.order === 'asc' ? '<' : '>')).cond);
  const where = conds.reduce((acc, c) => sql`${acc} AND ${c}`, sql`true`);
  const order = ascending
    ? sql`${cols.createdAt} ASC, ${cols.id} ASC`
    : sql`${cols.createdAt} DESC, ${cols.id} DESC`;
  const rows = await page(where, order, q.limit + 1);
  const hasMore = rows.length > q.limit;
  const slice = rows.slice(0, q.limit);
  return { rows: forward ? slice : slice.reverse(), hasMore };
}
