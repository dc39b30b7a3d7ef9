import { ApiError } from '../errors.ts';

/** Longest SQL text accepted (MAIA's own bound). */
export const MAX_SQL_LENGTH = 10_000;

type Token = { kind: 'word' | 'string' | 'quoted' | 'number' | 'punct' | 'space'; text: string };

const invalid = (message: string) => new ApiError('invalid_request', message, 'sql');

/** Splits SQL into tokens; comments become spaces so nothing can hide in them. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const take = (kind: Token['kind'], end: number) => {
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      tokens.push({ kind: 'space', text: ' ' });
      i = end === -1 ? sql.length : end + 1;
    } else if (c === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) throw invalid('Unterminated comment in SQL.');
      tokens.push({ kind: 'space', text: ' ' });
      i = end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      for (;;) {
        j = sql.indexOf(c, j);
        if (j === -1)
          throw invalid(c === "'" ? 'Unterminated string in SQL.' : 'Unterminated identifier in SQL.');
        if (sql[j + 1] === c) j += 2;
        else break;
      }
      take(c === "'" ? 'string' : 'quoted', j + 1);
    } else if (/\s/.test(c)) {
      let j = i;
      while (j < sql.length && /\s/.test(sql[j]!)) j++;
      take('space', j);
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      take('word', j);
    } else if (/[0-9.]/.test(c) && (c !== '.' || /[0-9]/.test(next ?? ''))) {
      let j = i;
      while (j < sql.length && /[0-9.eE]/.test(sql[j]!)) j++;
      take('number', j);
    } else if (c === ':' && next === ':') {
      take('punct', i + 2);
    } else take('punct', i + 1);
  }
  return tokens;
}

// Postgres type names MAIA's clients cast to, mapped to SQLite's type affinities.
const CAST_TYPES: Record<string, string> = {
  numeric: 'NUMERIC',
  decimal: 'NUMERIC',
  int: 'INTEGER',
  integer: 'INTEGER',
  int2: 'INTEGER',
  int4: 'INTEGER',
  int8: 'INTEGER',
  bigint: 'INTEGER',
  smallint: 'INTEGER',
  bool: 'INTEGER',
  boolean: 'INTEGER',
  float: 'REAL',
  float4: 'REAL',
  float8: 'REAL',
  real: 'REAL',
  double: 'REAL',
  text: 'TEXT',
  varchar: 'TEXT',
  char: 'TEXT',
  character: 'TEXT',
  date: 'TEXT',
  timestamp: 'TEXT',
  timestamptz: 'TEXT',
  time: 'TEXT',
  uuid: 'TEXT',
};
// Words that continue a multi-word type name ("double precision", "timestamp with time zone").
const TYPE_TAIL = new Set(['precision', 'varying', 'with', 'without', 'time', 'zone']);

const significant = (t: Token) => t.kind !== 'space';
// Words before a parenthesis that are not function names: `WHERE (x)::int` casts only `(x)`.
const KEYWORDS = new Set(
  'select from where and or not on by when then else end in is as between like glob having case distinct all union intersect except limit offset join using values with return'.split(
    ' ',
  ),
);

/** Index of the first token of the operand that ends at `end` (inclusive), for a postfix cast. */
function operandStart(tokens: Token[], end: number): number {
  let i = end;
  while (i >= 0 && !significant(tokens[i]!)) i--;
  if (i < 0) throw invalid("A '::' cast has nothing to cast.");
  let start = i;
  if (tokens[i]!.text === ')') {
    let depth = 0;
    for (; i >= 0; i--) {
      if (tokens[i]!.text === ')') depth++;
      else if (tokens[i]!.text === '(' && --depth === 0) break;
    }
    if (i < 0) throw invalid('Unbalanced parentheses in SQL.');
    start = i;
    let j = i - 1;
    while (j >= 0 && !significant(tokens[j]!)) j--;
    const before = tokens[j];
    if (
      before &&
      ((before.kind === 'word' && !KEYWORDS.has(before.text.toLowerCase())) || before.kind === 'quoted')
    )
      start = j; // a function call
  }
  // A qualified name: a.b.c
  while (
    start >= 2 &&
    tokens[start - 1]!.text === '.' &&
    ['word', 'quoted'].includes(tokens[start - 2]!.kind)
  )
    start -= 2;
  return start;
}

/** Rewrites every Postgres `expr::type` into `CAST(expr AS type)`, innermost first. */
function rewriteCasts(tokens: Token[]): Token[] {
  const out = [...tokens];
  for (let i = 0; i < out.length; i++) {
    if (out[i]!.text !== '::') continue;
    const start = operandStart(out, i - 1);
    let j = i + 1;
    while (j < out.length && !significant(out[j]!)) j++;
    const typeTok = out[j];
    if (typeTok?.kind !== 'word') throw invalid("A '::' cast names no type.");
    const lower = typeTok.text.toLowerCase();
    const mapped = CAST_TYPES[lower];
    if (!mapped && lower !== 'json' && lower !== 'jsonb')
      throw invalid(`Casting to '${typeTok.text}' is not supported.`);
    let end = j; // last token of the type name
    for (;;) {
      let k = end + 1;
      while (k < out.length && !significant(out[k]!)) k++;
      const t = out[k];
      if (t?.kind === 'word' && TYPE_TAIL.has(t.text.toLowerCase())) end = k;
      else if (t?.text === '(') {
        while (k < out.length && out[k]!.text !== ')') k++;
        end = k;
        break;
      } else break;
    }
    const operand = out.slice(start, i);
    const replacement: Token[] = mapped
      ? [{ kind: 'word', text: 'CAST(' }, ...operand, { kind: 'word', text: ` AS ${mapped})` }]
      : [{ kind: 'punct', text: '(' }, ...operand, { kind: 'punct', text: ')' }]; // ::json is the value itself
    out.splice(start, end - start + 1, ...replacement);
    i = start + replacement.length - 1;
  }
  return out;
}

/**
 * Checks that `sql` is one SELECT (or WITH ... SELECT) statement and translates the Postgres
 * spellings MAIA documents (`(data->>'x')::numeric`) into SQLite. The engine's authorizer is what
 * actually forbids everything else; this gives the clear 400s MAIA's clients expect first.
 */
export function prepareStructuredSql(sql: string): string {
  if (typeof sql !== 'string' || sql.trim() === '') throw invalid('SQL query must not be empty.');
  if (sql.length > MAX_SQL_LENGTH) throw invalid(`SQL query is longer than ${MAX_SQL_LENGTH} characters.`);
  let tokens = tokenize(sql);
  const semi = tokens.findIndex((t) => t.text === ';');
  if (semi !== -1) {
    if (tokens.slice(semi + 1).some(significant)) throw invalid('Only a single SQL statement is allowed.');
    tokens = tokens.slice(0, semi);
  }
  const first = tokens.find(significant);
  const verb = first?.kind === 'word' ? first.text.toUpperCase() : '';
  if (verb !== 'SELECT' && verb !== 'WITH' && verb !== 'VALUES')
    throw invalid(`Only SELECT statements are allowed, got: ${verb || first?.text || 'nothing'}`);
  return rewriteCasts(tokens)
    .map((t) => t.text)
    .join('')
    .trim();
}
