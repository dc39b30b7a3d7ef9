// The search playground's pure parts: the request body, its curl and SDK forms, and term highlighting.

export type Mode = 'hybrid' | 'vector' | 'keyword';
export type Op = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'nin';
export interface FilterRow {
  key: string;
  op: Op;
  value: string;
  type: 'string' | 'number' | 'boolean';
}
export interface SearchForm {
  query: string;
  mode: Mode;
  maxResults: number;
  threshold: string;
  filterMode: 'form' | 'json';
  combine: 'and' | 'or';
  rows: FilterRow[];
  json: string;
}

function typed(raw: string, type: FilterRow['type']): string | number | boolean {
  const v = raw.trim();
  if (type === 'number') {
    const n = Number(v);
    if (v === '' || !Number.isFinite(n)) throw new Error(`"${raw}" is not a number`);
    return n;
  }
  if (type === 'boolean') {
    if (v !== 'true' && v !== 'false') throw new Error(`"${raw}" is not true or false`);
    return v === 'true';
  }
  return v;
}

/** The OpenAI filter the form's rows describe, or undefined for none. Throws on a bad value. */
export function rowsToFilter(rows: FilterRow[], combine: 'and' | 'or'): unknown {
  const parts = rows
    .filter((r) => r.key.trim())
    .map((r) => {
      const value =
        r.op === 'in' || r.op === 'nin'
          ? r.value
              .split(',')
              .filter((s) => s.trim())
              .map((s) => typed(s, r.type))
          : typed(r.value, r.type);
      return { type: r.op, key: r.key.trim(), value };
    });
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : { type: combine, filters: parts };
}

/** The request body for POST /v1/vector_stores/{id}/search. Throws with a message for the form. */
export function requestBody(f: SearchForm): Record<string, unknown> {
  const body: Record<string, unknown> = { query: f.query, max_num_results: f.maxResults };
  const ranking: Record<string, unknown> = {};
  if (f.mode === 'keyword') body.search_mode = 'keyword';
  else ranking.ranker = f.mode === 'vector' ? 'none' : 'auto';
  if (f.threshold.trim() !== '') {
    const t = Number(f.threshold);
    if (!Number.isFinite(t) || t < 0 || t > 1)
      throw new Error('The score threshold is a number from 0 to 1.');
    ranking.score_threshold = t;
  }
  if (Object.keys(ranking).length) body.ranking_options = ranking;
  let filters: unknown;
  if (f.filterMode === 'json') {
    if (f.json.trim()) {
      try {
        filters = JSON.parse(f.json);
      } catch {
        throw new Error('The filter is not valid JSON.');
      }
    }
  } else filters = rowsToFilter(f.rows, f.combine);
  if (filters !== undefined) body.filters = filters;
  return body;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

export function curlSnippet(origin: string, storeId: string, body: unknown): string {
  return [
    `curl -s ${shellQuote(`${origin}/v1/vector_stores/${storeId}/search`)} \\`,
    `  -H "Authorization: Bearer $VECTORDB_API_KEY" \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -d ${shellQuote(JSON.stringify(body))}`,
  ].join('\n');
}

export function sdkSnippet(origin: string, storeId: string, body: Record<string, unknown>): string {
  const args = JSON.stringify(body, null, 2).replace(/\n/g, '\n');
  return [
    "import OpenAI from 'openai';",
    '',
    '// The SDK reads its key from OPENAI_API_KEY: export OPENAI_API_KEY="$VECTORDB_API_KEY"',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(`${origin}/v1`)} });`,
    ...(body.search_mode
      ? ["// search_mode is this server's extension (MAIA); the SDK sends it as is."]
      : []),
    `const page = await client.vectorStores.search(${JSON.stringify(storeId)}, ${args});`,
    'for (const hit of page.data) console.log(hit.score.toFixed(3), hit.filename, hit.content[0]?.text);',
  ].join('\n');
}

// Postgres's English full text ignores these; marking them (and words they begin) would be noise.
const STOP = new Set(
  'a an and are as at be by for from has have in is it its of on or that the this to was were will with'.split(
    ' ',
  ),
);

/** The query's words (2+ letters, no stop words), for highlighting; a word also marks its longer forms (stems). */
export function terms(query: string): string[] {
  const words = (query.toLowerCase().match(/[\p{L}\p{N}]{2,}/gu) ?? []).filter((w) => !STOP.has(w));
  return [...new Set(words)].sort((a, b) => b.length - a.length);
}

/** Splits text into plain and matching pieces (odd indices match). */
export function splitMatches(text: string, words: string[]): string[] {
  if (!words.length) return [text];
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return text.split(new RegExp(`((?<![\\p{L}\\p{N}])(?:${escaped.join('|')})[\\p{L}\\p{N}]*)`, 'giu'));
}
