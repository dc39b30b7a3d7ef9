import type { Sql } from '../db/client.ts';
import type { Fragment } from '../db/fragment.ts';

/** Okapi BM25's constants (the ones chunk_bm25 in migration 0004 uses). */
export const BM25 = { k1: 1.2, b: 0.75 } as const;

/**
 * What the query's words match. Plain words match a chunk holding any of them (BM25 ranks how well);
 * a query that uses web-search syntax (a "quoted phrase" or a -word) keeps its meaning: every
 * unquoted word, each phrase, and none of the excluded words.
 */
export function matchText(text: string): string {
  if (/"|(^|\s)-\S/.test(text)) return text;
  return text
    .split(/\s+/)
    .filter((w) => w && w.toLowerCase() !== 'or')
    .join(' or ');
}

/**
 * Common table expressions for keyword ranking over the scope `s` (its stores `ids`, chunk count `n`
 * and lexeme occurrences `tokens`): `tq`, the tsquery chunks must match, and `qt`, the query's
 * lexemes with their inverse document frequency, ln(1 + (N - df + 0.5) / (df + 0.5)), from the
 * per-store term statistics that triggers keep exact (migration 0004), plus what the backlog has still to
 * add or take away (migration 0009).
 */
export function keywordCtes(sql: Sql, text: string): Fragment {
  return sql`
    tq AS MATERIALIZED (SELECT websearch_to_tsquery('english', ${matchText(text)}) AS query),
    qt AS MATERIALIZED (
      SELECT coalesce(array_agg(l.lexeme ORDER BY l.lexeme), '{}') AS lexemes,
        coalesce(array_agg(ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5)) ORDER BY l.lexeme), '{}') AS idf,
        coalesce(sum(ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5))), 0) AS idf_sum,
        greatest(s.tokens / greatest(s.n, 1), 1) AS avg_tokens
      FROM s, unnest(tsvector_to_array(to_tsvector('english', ${text}))) l(lexeme),
        LATERAL (SELECT (coalesce((SELECT sum(t.chunks) FROM chunk_terms t
                   WHERE t.vector_store_id = ANY(s.ids) AND t.lexeme = l.lexeme), 0)
                 + coalesce((SELECT sum(b.sign * p.chunks) FROM term_backlog b JOIN generation_terms p
                       USING (vector_store_id, file_id, generation)
                     WHERE b.sign <> 0 AND b.vector_store_id = ANY(s.ids) AND p.lexeme = l.lexeme
                       AND p.lexeme > b.done_through), 0))::float8 AS df) d
      GROUP BY s.n, s.tokens)`;
}

/** A chunk's BM25 score for the query of `qt` (0 when qt is empty: no lexemes in the query). */
export const bm25Of = (sql: Sql, tsv: Fragment) =>
  sql`coalesce(chunk_bm25(${tsv}, qt.lexemes, qt.idf, qt.avg_tokens), 0)`;

/**
 * BM25 in 0..1 without looking at other results, so the score means the same on every page: the share
 * of the query's whole inverse document frequency a chunk earns, each term saturating at (k1 + 1).
 * One occurrence of every query word in a chunk of average length scores 1 / (k1 + 1) = 0.45; a match
 * of the rarest word alone earns most of that, a match of common words little.
 */
export const textScoreOf = (sql: Sql, bm25: Fragment) =>
  sql`CASE WHEN coalesce(qt.idf_sum, 0) > 0 THEN least(${bm25} / (${BM25.k1 + 1}::float8 * qt.idf_sum), 1) ELSE 0 END`;

/** The `k` chunks of `where` that match the query best by BM25 (`kw`: id, bm25). */
export const keywordCandidatesCte = (sql: Sql, where: Fragment, k: number) => sql`
  kw AS MATERIALIZED (
    SELECT c.id, ${bm25Of(sql, sql`c.tsv`)} AS bm25 FROM chunks c, tq, qt
    WHERE c.tsv @@ tq.query AND ${where}
    ORDER BY bm25 DESC, c.id LIMIT ${k})`;
