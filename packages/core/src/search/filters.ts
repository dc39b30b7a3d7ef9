import type postgres from 'postgres';
import { z } from 'zod';
import type { Fragment } from '../db/fragment.ts';
import { MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_FILTER_VALUES } from '../limits.ts';

const MAX_KEY_LENGTH = 256;
const MAX_STRING_LENGTH = 4096;

// The parsed, trusted form of a filter: FilterSchema (or FlatFilterSchema, MaiaSearchRequest) makes one from a
// request, within the limits, and compileFilter takes it as it is. A comparison's value fits its type.
export type FilterScalar = string | number | boolean;
export type ComparisonFilter =
  | { type: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; key: string; value: FilterScalar }
  | { type: 'in' | 'nin'; key: string; value: (string | number)[] };
export type ComparisonType = ComparisonFilter['type'];
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

// Discriminated by `type`, so an error names the field that is wrong rather than "Invalid input". The
// refinement above pairs each type with its kind of value, which zod's inferred type cannot say.
const FilterNodeSchema = z.discriminatedUnion('type', [
  ComparisonObject,
  CompoundObject,
]) as z.ZodType<Filter>;

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

/** One value of a flat `{key: value}` filter (MAIA's form): a string, a finite number or a boolean. */
export const FlatFilterValue = z.union([FilterString, FilterNumber, z.boolean()]);

/** MAIA's flat `filter`, as the /v1 search takes it: every key must equal its value. */
export const FlatFilterSchema = z.record(z.string().min(1).max(MAX_KEY_LENGTH), FlatFilterValue);

/** Turns a flat `{key: value}` filter into an `and` of `eq` comparisons. */
export const flatFilterToFilter = (flat: Record<string, FilterScalar>): Filter => ({
  type: 'and',
  filters: Object.entries(flat).map(([key, value]) => ({ type: 'eq', key, value })),
});

/** The one filter a /v1 search applies: `filters`, the flat `filter`, or an `and` of both. */
export function combineFilters(
  filters: Filter | undefined,
  flat: Record<string, FilterScalar> | undefined,
): Filter | undefined {
  const all: Filter[] = [];
  if (filters) all.push(filters);
  if (flat && Object.keys(flat).length) all.push(flatFilterToFilter(flat));
  return all.length > 1 ? { type: 'and', filters: all } : all[0];
}

/** A client or a transaction: anything that builds fragments. */
type Sql = postgres.ISql;

/**
 * Compiles a parsed filter to a boolean SQL fragment over a jsonb attributes column. Keys and values are
 * bound parameters. Every comparison is type-aware and never NULL: a value compares only with an
 * attribute of the same JSON type (numbers as numeric, strings in byte order, booleans as
 * booleans); otherwise, and when the key is missing, `eq`/`in`/`gt`... are false and `ne`/`nin`
 * are true (as OpenAI does: "not equal" holds for a file without the attribute).
 */
export function compileFilter(sql: Sql, filter: Filter, column: Fragment = sql`c.attributes`): Fragment {
  if (isCompoundFilter(filter)) {
    const parts = filter.filters.map((f) => compileFilter(sql, f, column));
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
    const strings = f.value.filter((v): v is string => typeof v === 'string');
    const numbers = f.value.filter((v): v is number => typeof v === 'number');
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
  return sql`(CASE WHEN jsonb_typeof(${element}) = 'boolean'
      THEN ${text}::boolean ${op} ${value}::boolean ELSE false END)`;
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
