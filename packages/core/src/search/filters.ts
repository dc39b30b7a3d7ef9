import type postgres from 'postgres';
import { z } from 'zod';
import type { Fragment } from '../db/fragment.ts';
import { ApiError } from '../errors.ts';
import { MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_FILTER_VALUES } from '../limits.ts';

const MAX_KEY_LENGTH = 256;
const MAX_STRING_LENGTH = 4096;

export type FilterScalar = string | number | boolean;
export type ComparisonType = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
export interface ComparisonFilter {
  type: ComparisonType;
  key: string;
  value: FilterScalar | (string | number)[];
}
export interface CompoundFilter {
  type: 'and' | 'or';
  filters: Filter[];
}
export type Filter = ComparisonFilter | CompoundFilter;

// Postgres text and jsonb cannot hold NUL: refuse it here rather than fail in the database.
const noNul = (s: string) => !s.includes('\u0000');
const FilterString = z.string().max(MAX_STRING_LENGTH).refine(noNul, 'must not contain NUL characters');
const FilterNumber = z.number().refine(Number.isFinite, 'must be a finite number');

const ComparisonObject = z
  .object({
    type: z.enum(['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin']),
    key: z.string().min(1).max(MAX_KEY_LENGTH).refine(noNul, 'must not contain NUL characters'),
    value: z.union(
      [
        FilterString,
        FilterNumber,
        z.boolean(),
        z.array(z.union([FilterString, FilterNumber])).max(MAX_FILTER_VALUES),
      ],
      { error: 'must be a string, a finite number, a boolean, or an array of strings and numbers' },
    ),
  })
  .refine((f) => Array.isArray(f.value) === (f.type === 'in' || f.type === 'nin'), {
    message: "'in' and 'nin' take an array of strings or numbers; the other comparisons take one value",
    path: ['value'],
  });

const CompoundObject = z.object({
  type: z.enum(['and', 'or']),
  filters: z.array(z.lazy(() => FilterNodeSchema)),
});

// Discriminated by `type`, so an error names the field that is wrong rather than "Invalid input".
const FilterNodeSchema: z.ZodType<Filter> = z.discriminatedUnion('type', [ComparisonObject, CompoundObject]);

export const ComparisonFilterSchema: z.ZodType<ComparisonFilter> = ComparisonObject;
export const CompoundFilterSchema: z.ZodType<CompoundFilter> = CompoundObject;

/**
 * Measures a filter before its structure is parsed, without recursion, so that a hostile nesting
 * can neither overflow the stack nor cost more than the limits allow. Returns why it is too big.
 */
export function filterLimitError(input: unknown): string | null {
  const stack: [unknown, number][] = [[input, 1]];
  let nodes = 0;
  let values = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > MAX_FILTER_DEPTH) return `filters may be nested at most ${MAX_FILTER_DEPTH} levels deep`;
    nodes += 1;
    if (typeof node !== 'object' || node === null) continue;
    const { filters, value } = node as { filters?: unknown; value?: unknown };
    if (Array.isArray(filters)) {
      if (nodes + stack.length + filters.length > MAX_FILTER_NODES) {
        return `filters may hold at most ${MAX_FILTER_NODES} conditions`;
      }
      for (const child of filters) stack.push([child, depth + 1]);
    }
    if (Array.isArray(value)) {
      values += value.length;
      if (values > MAX_FILTER_VALUES) return `filters may list at most ${MAX_FILTER_VALUES} values in all`;
    }
  }
  return null;
}

/** OpenAI's filter grammar (comparison or nested and/or), size-checked before it is parsed. */
export const FilterSchema: z.ZodType<Filter, unknown> = z
  .unknown()
  .superRefine((input, ctx) => {
    const error = filterLimitError(input);
    if (error) ctx.addIssue({ code: 'custom', message: error, fatal: true });
  })
  .pipe(FilterNodeSchema);

/** MAIA's flat `filter`: every key must equal its value. */
export const FlatFilterSchema = z.record(
  z.string().min(1).max(MAX_KEY_LENGTH),
  z.union([FilterString, FilterNumber, z.boolean()]),
);

/** Turns MAIA's flat `{key: value}` filter into an `and` of `eq` comparisons. */
export function flatFilterToFilter(flat: Record<string, unknown>): Filter {
  const filters: Filter[] = [];
  for (const [key, value] of Object.entries(flat)) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ApiError('invalid_request', `filter.${key} must be a string, number or boolean`, 'filter');
    }
    filters.push({ type: 'eq', key, value });
  }
  return { type: 'and', filters };
}

/** A client or a transaction: anything that builds fragments. */
type Sql = postgres.ISql;

/**
 * Compiles a filter to a boolean SQL fragment over a jsonb attributes column. Keys and values are
 * bound parameters. Every comparison is type-aware and never NULL: a value compares only with an
 * attribute of the same JSON type (numbers as numeric, strings in byte order, booleans as
 * booleans); otherwise, and when the key is missing, `eq`/`in`/`gt`... are false and `ne`/`nin`
 * are true (as OpenAI does: "not equal" holds for a file without the attribute).
 */
export function compileFilter(sql: Sql, filter: Filter, column: Fragment = sql`c.attributes`): Fragment {
  const parsed = FilterSchema.safeParse(filter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? ` (at filters.${issue.path.join('.')})` : '';
    throw new ApiError('invalid_request', `Invalid filters: ${issue.message}${where}`, 'filters');
  }
  return compile(sql, parsed.data, column);
}

function compile(sql: Sql, filter: Filter, column: Fragment): Fragment {
  if (isCompoundFilter(filter)) {
    const parts = filter.filters.map((f) => compile(sql, f, column));
    if (parts.length === 0) return filter.type === 'and' ? sql`true` : sql`false`;
    const joined = parts.reduce((acc, part) =>
      filter.type === 'and' ? sql`${acc} AND ${part}` : sql`${acc} OR ${part}`,
    );
    return sql`(${joined})`;
  }
  return comparison(sql, filter, column);
}

/** True for and/or (TypeScript cannot narrow the union on `type` alone: 'and' | 'or' is itself a union). */
export const isCompoundFilter = (f: Filter): f is CompoundFilter => f.type === 'and' || f.type === 'or';

function comparison(sql: Sql, f: ComparisonFilter, column: Fragment): Fragment {
  const element = sql`(${column} -> ${f.key}::text)`;
  const text = sql`(${column} ->> ${f.key}::text)`;
  if (f.type === 'ne') return sql`NOT ${comparison(sql, { ...f, type: 'eq' }, column)}`;
  if (f.type === 'nin') return sql`NOT ${comparison(sql, { ...f, type: 'in' }, column)}`;
  if (f.type === 'in') {
    const list = Array.isArray(f.value) ? f.value : [f.value];
    const strings = list.filter((v): v is string => typeof v === 'string');
    const numbers = list.filter((v): v is number => typeof v === 'number');
    return sql`(CASE jsonb_typeof(${element})
      WHEN 'string' THEN ${text} = ANY(${strings}::text[])
      WHEN 'number' THEN ${text}::numeric = ANY(${numbers.map(String)}::numeric[])
      ELSE false END)`;
  }
  const op = operator(sql, f.type);
  const value = f.value;
  // CASE (not AND) guarantees the cast only runs on attributes of the right JSON type.
  if (typeof value === 'number') {
    return sql`(CASE WHEN jsonb_typeof(${element}) = 'number'
      THEN ${text}::numeric ${op} ${String(value)}::numeric ELSE false END)`;
  }
  if (typeof value === 'string') {
    return sql`(CASE WHEN jsonb_typeof(${element}) = 'string'
      THEN ${text} COLLATE "C" ${op} ${value}::text ELSE false END)`;
  }
  if (typeof value === 'boolean') {
    return sql`(CASE WHEN jsonb_typeof(${element}) = 'boolean'
      THEN ${text}::boolean ${op} ${value}::boolean ELSE false END)`;
  }
  throw new ApiError('invalid_request', `'${f.type}' takes one value, not a list`, 'filters');
}

function operator(sql: Sql, type: 'eq' | 'gt' | 'gte' | 'lt' | 'lte'): Fragment {
  switch (type) {
    case 'eq':
      return sql`=`;
    case 'gt':
      return sql`>`;
    case 'gte':
      return sql`>=`;
    case 'lt':
      return sql`<`;
    case 'lte':
      return sql`<=`;
  }
}
