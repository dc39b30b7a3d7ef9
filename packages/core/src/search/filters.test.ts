import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase } from '../../../../test/helpers.ts';
import { insertChunks, random, seedStore, unitVector } from '../../../../test/search-fixtures.ts';
import type { Database } from '../db/client.ts';
import { MAX_FILTER_DEPTH, MAX_FILTER_NODES, MAX_FILTER_VALUES } from '../limits.ts';
import {
  type ComparisonFilter,
  compileFilter,
  type Filter,
  FilterSchema,
  FlatFilterSchema,
  flatFilterToFilter,
  isCompoundFilter,
} from './filters.ts';
import { VectorStoreSearchParams } from './schemas.ts';

const EVIL = `x'); DROP TABLE chunks; --`;
// Row i of the table has attributes ROWS[i]; row 0 has none at all.
const ROWS: Record<string, string | number | boolean | null>[] = [
  {},
  { n: 1, s: 'a', b: true },
  { n: 2, s: 'b', b: false },
  { n: 10, s: 'B', b: true },
  { n: '2', s: 1, b: 'true' },
  { n: 2.5, s: 'é', b: false, "it's; a \\ key": EVIL },
  { n: -3, s: '', b: true, '$.a': 'dollar', 'a.b': 'dotted', '{a}': 'braces' },
  { n: 2, s: '😀 emoji', b: null },
  { n: 1e20, s: 'A', b: 0 },
  { s: `quote ' " \\ backslash; semicolon`, n: 1.0 },
];

let db: Database;
beforeAll(async () => {
  db = await freshDatabase();
  await seedStore(db.sql, { project: 'proj_f', store: 'vs_f', file: 'file_f' });
  const rand = random(7);
  await insertChunks(
    db.sql,
    'vs_f',
    'file_f',
    ROWS.map((attributes, i) => ({ content: `row ${i}`, embedding: unitVector(rand, 64), attributes })),
  );
});
afterAll(() => db?.close());

async function matches(filter: Filter): Promise<number[]> {
  const rows = await db.sql<{ i: number }[]>`
    SELECT chunk_index AS i FROM chunks c WHERE ${compileFilter(db.sql, filter)} ORDER BY 1`;
  return rows.map((r) => r.i);
}
const all = ROWS.map((_, i) => i);
const except = (...out: number[]) => all.filter((i) => !out.includes(i));
// Loosely typed so that a table of cases reads easily; every case pairs its type with the right value.
const cmp = (type: ComparisonFilter['type'], key: string, value: ComparisonFilter['value']): Filter =>
  ({ type, key, value }) as Filter;

describe('comparisons against real rows', () => {
  it('compares numbers as numbers, only with JSON numbers', async () => {
    expect(await matches(cmp('eq', 'n', 2))).toEqual([2, 7]);
    expect(await matches(cmp('eq', 'n', 1))).toEqual([1, 9]); // 1.0 is 1
    expect(await matches(cmp('gt', 'n', 2))).toEqual([3, 5, 8]); // 10 > 2 numerically, '2' is a string
    expect(await matches(cmp('gte', 'n', 2))).toEqual([2, 3, 5, 7, 8]);
    expect(await matches(cmp('lt', 'n', 2))).toEqual([1, 6, 9]);
    expect(await matches(cmp('lte', 'n', -3))).toEqual([6]);
    expect(await matches(cmp('gt', 'n', 1e19))).toEqual([8]);
    expect(await matches(cmp('lt', 'n', 2.25))).toEqual([1, 2, 6, 7, 9]);
  });

  it('compares strings as strings, in byte order', async () => {
    expect(await matches(cmp('eq', 's', 'a'))).toEqual([1]);
    expect(await matches(cmp('eq', 's', ''))).toEqual([6]);
    expect(await matches(cmp('eq', 'n', '2'))).toEqual([4]);
    expect(await matches(cmp('gt', 's', 'a'))).toEqual([2, 5, 7, 9]); // 'b', 'é', '😀', 'quote'; not 'B' or 'A'
    expect(await matches(cmp('lt', 's', 'B'))).toEqual([6, 8]); // '', 'A' (and not the number 1)
    expect(await matches(cmp('gte', 's', 'é'))).toEqual([5, 7]);
    expect(await matches(cmp('lte', 's', 'A'))).toEqual([6, 8]);
  });

  it('compares booleans as booleans, never with "true" or 0', async () => {
    expect(await matches(cmp('eq', 'b', true))).toEqual([1, 3, 6]);
    expect(await matches(cmp('eq', 'b', false))).toEqual([2, 5]);
    expect(await matches(cmp('ne', 'b', true))).toEqual(except(1, 3, 6));
    expect(await matches(cmp('gt', 'b', false))).toEqual([1, 3, 6]);
  });

  it('treats a mismatched type as not equal, and a missing key as not equal', async () => {
    expect(await matches(cmp('eq', 's', 1))).toEqual([4]);
    expect(await matches(cmp('eq', 'b', 'true'))).toEqual([4]);
    expect(await matches(cmp('eq', 'missing', 'a'))).toEqual([]);
    expect(await matches(cmp('ne', 'missing', 'a'))).toEqual(all);
    expect(await matches(cmp('ne', 'n', 2))).toEqual(except(2, 7));
    expect(await matches(cmp('gt', 'missing', 0))).toEqual([]);
    expect(await matches(cmp('lt', 'missing', 'z'))).toEqual([]);
  });

  it('handles in and nin with strings, numbers and mixtures', async () => {
    expect(await matches(cmp('in', 's', ['a', 'b', 'zzz']))).toEqual([1, 2]);
    expect(await matches(cmp('in', 'n', [2, 10]))).toEqual([2, 3, 7]);
    expect(await matches(cmp('in', 'n', ['2', 1]))).toEqual([1, 4, 9]);
    expect(await matches(cmp('in', 'n', []))).toEqual([]);
    expect(await matches(cmp('nin', 'n', [2, 10]))).toEqual(except(2, 3, 7));
    expect(await matches(cmp('nin', 'missing', ['a']))).toEqual(all);
    expect(await matches(cmp('nin', 's', []))).toEqual(all);
    expect(await matches(cmp('in', 'b', ['true', 1]))).toEqual([4]);
  });

  it('nests and/or', async () => {
    const f: Filter = {
      type: 'or',
      filters: [
        { type: 'and', filters: [cmp('eq', 'b', true), cmp('gt', 'n', 0)] },
        { type: 'and', filters: [cmp('eq', 's', 'b'), { type: 'or', filters: [cmp('eq', 'n', 2)] }] },
      ],
    };
    expect(await matches(f)).toEqual([1, 2, 3]);
    expect(await matches({ type: 'and', filters: [] })).toEqual(all);
    expect(await matches({ type: 'or', filters: [] })).toEqual([]);
    expect(await matches({ type: 'and', filters: [cmp('ne', 'n', 2), cmp('nin', 's', ['a'])] })).toEqual(
      except(1, 2, 7),
    );
  });

  it('can compile over another column', async () => {
    const rows =
      await db.sql`SELECT x.i FROM (VALUES (1, '{"k": 5}'::jsonb), (2, '{"k": 6}'::jsonb)) AS x(i, a)
      WHERE ${compileFilter(db.sql, cmp('gt', 'k', 5), db.sql`x.a`)}`;
    expect(rows.map((r) => r.i)).toEqual([2]);
  });

  it('agrees with a reference evaluator on random filters', async () => {
    const scalar = fc.oneof(
      fc.constantFrom('a', 'b', 'B', '', 'é', '2', 'true', 'A'),
      fc.constantFrom(-3, 0, 1, 2, 2.5, 10, 1e20),
      fc.boolean(),
    );
    const comparison = fc.oneof(
      fc.record({
        type: fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte'),
        key: fc.constantFrom('n', 's', 'b', 'missing'),
        value: scalar,
      }),
      fc.record({
        type: fc.constantFrom('in', 'nin'),
        key: fc.constantFrom('n', 's', 'b', 'missing'),
        value: fc.array(fc.oneof(fc.constantFrom('a', 'b', '2', ''), fc.constantFrom(1, 2, 10, -3)), {
          maxLength: 4,
        }),
      }),
    ) as fc.Arbitrary<Filter>;
    const { filter } = fc.letrec<{ filter: Filter }>((tie) => ({
      filter: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        comparison,
        fc.record({
          type: fc.constantFrom('and', 'or'),
          filters: fc.array(tie('filter'), { maxLength: 3 }),
        }) as fc.Arbitrary<Filter>,
      ),
    }));
    await fc.assert(
      fc.asyncProperty(filter, async (f) => {
        const expected = all.filter((i) => evaluate(f, ROWS[i]!));
        expect(await matches(f)).toEqual(expected);
      }),
      { numRuns: 150, seed: 42 },
    );
  });
});

describe('hostile keys and values are data, not SQL', () => {
  it('matches keys and values holding quotes, semicolons, backslashes and jsonpath', async () => {
    expect(await matches(cmp('eq', "it's; a \\ key", EVIL))).toEqual([5]);
    expect(await matches(cmp('eq', '$.a', 'dollar'))).toEqual([6]);
    expect(await matches(cmp('eq', 'a.b', 'dotted'))).toEqual([6]);
    expect(await matches(cmp('eq', '{a}', 'braces'))).toEqual([6]);
    expect(await matches(cmp('eq', 's', `quote ' " \\ backslash; semicolon`))).toEqual([9]);
    expect(await matches(cmp('eq', 's', '😀 emoji'))).toEqual([7]);
    expect(await matches(cmp('in', 's', [EVIL, `'`, '"', '\\', '{a,b}', 'a"}']))).toEqual([]);
    for (const key of [EVIL, `'`, `"`, '\\', '$.s', '$..*', "s'--", '"s"', "s') OR ('1'='1"]) {
      expect(await matches(cmp('eq', key, 'a'))).toEqual([]);
      expect(await matches(cmp('gt', key, 0))).toEqual([]);
      expect(await matches(cmp('in', key, [EVIL, 1]))).toEqual([]);
    }
    expect(await matches(cmp('eq', 's', "a' OR '1'='1"))).toEqual([]);
    const [count] = await db.sql`SELECT count(*) AS n FROM chunks`;
    expect(count?.n).toBe(ROWS.length);
  });
});

describe('validation and limits', () => {
  const nest = (depth: number): Filter => {
    let f = cmp('eq', 'n', 1);
    for (let d = 1; d < depth; d++) f = { type: 'and', filters: [f] };
    return f;
  };
  /** A filter is parsed once, with the request: the first issue names the offending field under `filters`. */
  const invalid = (filter: unknown, message: RegExp, at = 'filters') => {
    const parsed = VectorStoreSearchParams.safeParse({ query: 'x', filters: filter });
    expect(parsed.success).toBe(false);
    const issue = parsed.error!.issues[0]!;
    expect(issue.path.join('.')).toBe(at);
    expect(issue.message).toMatch(message);
  };

  it('accepts the deepest and largest allowed filters', async () => {
    expect(await matches(nest(MAX_FILTER_DEPTH))).toEqual([1, 9]);
    const wide: Filter = {
      type: 'or',
      filters: Array.from({ length: MAX_FILTER_NODES - 1 }, (_, i) => cmp('eq', 'n', i)),
    };
    expect(await matches(wide)).toEqual([1, 2, 3, 7, 9]);
    const values = Array.from({ length: MAX_FILTER_VALUES }, (_, i) => i);
    expect(await matches(cmp('in', 'n', values))).toEqual([1, 2, 3, 7, 9]);
  });

  it('refuses filters that are too deep, too wide or list too many values', () => {
    invalid(nest(MAX_FILTER_DEPTH + 1), /nested at most 10 levels/);
    invalid(nest(100_000), /nested at most 10 levels/);
    invalid(
      { type: 'or', filters: Array.from({ length: MAX_FILTER_NODES }, () => cmp('eq', 'n', 1)) },
      /at most 100 conditions/,
    );
    invalid(
      { type: 'or', filters: Array.from({ length: 1_000_000 }, () => cmp('eq', 'n', 1)) },
      /at most 100 conditions/,
    );
    invalid(
      {
        type: 'and',
        filters: [
          cmp(
            'in',
            'n',
            Array.from({ length: 600 }, (_, i) => i),
          ),
          cmp(
            'nin',
            'n',
            Array.from({ length: 600 }, (_, i) => i),
          ),
        ],
      },
      /at most 1000 values/,
    );
  });

  it('refuses malformed comparisons', () => {
    const value = /must be a string, a finite number, a boolean, or an array of strings and numbers/;
    invalid({ type: 'like', key: 'n', value: 1 }, /Invalid discriminator value/, 'filters.type');
    invalid({ type: 'eq', value: 1 }, /expected string, received undefined/, 'filters.key');
    invalid({ type: 'eq', key: '', value: 1 }, />=1 characters/, 'filters.key');
    invalid({ type: 'eq', key: 'n', value: [1, 2] }, /'in' and 'nin' take an array/, 'filters.value');
    invalid({ type: 'in', key: 'n', value: 1 }, /'in' and 'nin' take an array/, 'filters.value');
    invalid({ type: 'in', key: 'n', value: [true] }, value, 'filters.value');
    invalid({ type: 'eq', key: 'n', value: null }, value, 'filters.value');
    invalid({ type: 'eq', key: 'n', value: { a: 1 } }, value, 'filters.value');
    invalid({ type: 'eq', key: 'n', value: Number.NaN }, value, 'filters.value');
    invalid({ type: 'eq', key: 'n', value: Number.POSITIVE_INFINITY }, value, 'filters.value');
    invalid({ type: 'eq', key: 'n\u0000', value: 1 }, /NUL/, 'filters.key');
    invalid({ type: 'eq', key: 'n', value: 'a\u0000b' }, /NUL/, 'filters.value');
    invalid({ type: 'and', filters: [{ type: 'eq', key: 'n' }] }, value, 'filters.filters.0.value');
    invalid({ type: 'and', filters: 'x' }, /expected array/, 'filters.filters');
    invalid(null, /expected object, received null/);
  });

  it('holds `filters` and the flat `filter` to the limits together, as the one filter searched', () => {
    const flat = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    const wide = { type: 'or', filters: Array.from({ length: 50 }, () => cmp('eq', 'n', 1)) };
    const search = (body: object) => VectorStoreSearchParams.safeParse({ query: 'x', ...body });
    expect(search({ filter: flat(MAX_FILTER_NODES - 1) }).success).toBe(true);
    expect(search({ filter: flat(MAX_FILTER_NODES) }).error?.issues[0]).toMatchObject({
      path: ['filter'],
      message: 'filters may hold at most 100 conditions',
    });
    expect(search({ filters: wide, filter: flat(40) }).success).toBe(true);
    expect(search({ filters: wide, filter: flat(60) }).error?.issues[0]?.path).toEqual(['filter']);
    expect(search({ filters: nest(MAX_FILTER_DEPTH), filter: { a: 1 } }).error?.issues[0]?.message).toMatch(
      /nested at most 10 levels/,
    );
  });

  it('exposes the same rules as a zod schema', () => {
    expect(FilterSchema.safeParse(nest(3)).success).toBe(true);
    expect(FilterSchema.safeParse(nest(100_000)).success).toBe(false);
    const parsed = FilterSchema.safeParse({ type: 'eq', key: 'k', value: 'v', extra: 1 });
    expect(parsed.success && parsed.data).toEqual({ type: 'eq', key: 'k', value: 'v' });
  });
});

describe("MAIA's flat filter", () => {
  it('is an and of eq', async () => {
    expect(flatFilterToFilter({ s: 'a', b: true })).toEqual({
      type: 'and',
      filters: [cmp('eq', 's', 'a'), cmp('eq', 'b', true)],
    });
    expect(await matches(flatFilterToFilter({ b: true, n: 10 }))).toEqual([3]);
    expect(await matches(flatFilterToFilter({}))).toEqual(all);
  });

  it('refuses values that are not scalars, where it is parsed', () => {
    for (const bad of [['a'], null, { a: 1 }, Number.NaN, 'a\u0000b', 'x'.repeat(4097)]) {
      expect(FlatFilterSchema.safeParse({ s: bad }).success).toBe(false);
    }
    expect(FlatFilterSchema.safeParse({ '': 1 }).success).toBe(false);
    expect(FlatFilterSchema.parse({ s: 'a', n: 1.5, b: false })).toEqual({ s: 'a', n: 1.5, b: false });
  });
});

/** The documented semantics, in JavaScript. */
function evaluate(f: Filter, attrs: Record<string, unknown>): boolean {
  if (isCompoundFilter(f)) {
    return f.type === 'and'
      ? f.filters.every((g) => evaluate(g, attrs))
      : f.filters.some((g) => evaluate(g, attrs));
  }
  const actual = attrs[f.key];
  if (f.type === 'ne') return !evaluate({ ...f, type: 'eq' }, attrs);
  if (f.type === 'nin') return !evaluate({ ...f, type: 'in' }, attrs);
  if (f.type === 'in') {
    return (f.value as unknown[]).some((v) => typeof v === typeof actual && order(actual, v) === 0);
  }
  if (actual === undefined || actual === null || typeof actual !== typeof f.value) return false;
  const c = order(actual, f.value);
  return { eq: c === 0, gt: c > 0, gte: c >= 0, lt: c < 0, lte: c <= 0 }[f.type];
}

function order(a: unknown, b: unknown): number {
  if (typeof a === 'string') return Buffer.compare(Buffer.from(a), Buffer.from(b as string));
  return Number(a) - Number(b);
}
