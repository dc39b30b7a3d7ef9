import { useMemo, useState } from 'preact/hooks';
import { api, enc, type SearchHit } from './api.ts';
import {
  curlSnippet,
  type FilterRow,
  type Op,
  requestBody,
  type SearchForm,
  sdkSnippet,
  splitMatches,
  terms,
} from './query.ts';
import { href } from './router.ts';
import { ErrorText } from './ui.tsx';

const OPS: Op[] = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin'];
const emptyRow = (): FilterRow => ({ key: '', op: 'eq', value: '', type: 'string' });

function Highlighted({ text, words }: { text: string; words: string[] }) {
  const parts = splitMatches(text, words);
  return <>{parts.map((p, i) => (i % 2 ? <mark key={i}>{p}</mark> : p))}</>;
}

function Copyable({ id, label, text }: { id: string; label: string; text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div class="snippet">
      <div class="row">
        <h3 id={id}>{label}</h3>
        <button
          type="button"
          aria-describedby={id}
          onClick={async () => {
            await navigator.clipboard?.writeText(text);
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          }}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre class="code">{text}</pre>
    </div>
  );
}

function FilterRows({ form, set }: { form: SearchForm; set: (p: Partial<SearchForm>) => void }) {
  const patch = (i: number, p: Partial<FilterRow>) =>
    set({ rows: form.rows.map((r, j) => (j === i ? { ...r, ...p } : r)) });
  return (
    <div class="filter-rows">
      <label for="combine">Combine</label>
      <select
        id="combine"
        value={form.combine}
        onChange={(e) => set({ combine: e.currentTarget.value as 'and' })}
      >
        <option value="and">all (and)</option>
        <option value="or">any (or)</option>
      </select>
      {form.rows.map((r, i) => (
        <fieldset key={i} class="filter-row">
          <legend class="sr-only">Condition {i + 1}</legend>
          <label for={`fk-${i}`}>Key</label>
          <input id={`fk-${i}`} value={r.key} onInput={(e) => patch(i, { key: e.currentTarget.value })} />
          <label for={`fo-${i}`}>Operator</label>
          <select id={`fo-${i}`} value={r.op} onChange={(e) => patch(i, { op: e.currentTarget.value as Op })}>
            {OPS.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
          <label for={`fv-${i}`}>Value{r.op === 'in' || r.op === 'nin' ? ' (comma-separated)' : ''}</label>
          <input id={`fv-${i}`} value={r.value} onInput={(e) => patch(i, { value: e.currentTarget.value })} />
          <label for={`ft-${i}`}>Type</label>
          <select
            id={`ft-${i}`}
            value={r.type}
            onChange={(e) => patch(i, { type: e.currentTarget.value as FilterRow['type'] })}
          >
            <option>string</option>
            <option>number</option>
            <option>boolean</option>
          </select>
          <button
            type="button"
            onClick={() => set({ rows: form.rows.filter((_, j) => j !== i) })}
            aria-label={`Remove condition ${i + 1}`}
          >
            Remove
          </button>
        </fieldset>
      ))}
      <button type="button" onClick={() => set({ rows: [...form.rows, emptyRow()] })}>
        Add condition
      </button>
    </div>
  );
}

export function SearchTab({ storeId }: { storeId: string }) {
  const [form, setForm] = useState<SearchForm>({
    query: '',
    mode: 'hybrid',
    maxResults: 10,
    threshold: '',
    filterMode: 'form',
    combine: 'and',
    rows: [],
    json: '',
  });
  const set = (p: Partial<SearchForm>) => setForm((f) => ({ ...f, ...p }));
  const [hits, setHits] = useState<{ data: SearchHit[]; words: string[] }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const built = useMemo(() => {
    try {
      return { body: requestBody(form) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }, [form]);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!built.body) return setError(built.error);
    setBusy(true);
    setError(undefined);
    try {
      const page = await api<{ data: SearchHit[] }>(
        'POST',
        `/vector_stores/${enc(storeId)}/search`,
        built.body,
        undefined,
        // The spec's result has five fields; chunk index, page and score details come with this opt-in.
        { 'x-search-extras': 'true' },
      );
      setHits({ data: page.data, words: terms(form.query) });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="search">
      <form class="card" onSubmit={submit} aria-labelledby="search-title">
        <h2 id="search-title">Search</h2>
        <label for="q">Query</label>
        <input
          id="q"
          type="search"
          required
          value={form.query}
          onInput={(e) => set({ query: e.currentTarget.value })}
        />
        <div class="grid3">
          <div class="field">
            <label for="mode">Mode</label>
            <select
              id="mode"
              value={form.mode}
              onChange={(e) => set({ mode: e.currentTarget.value as 'hybrid' })}
            >
              <option value="hybrid">hybrid (vector + text)</option>
              <option value="vector">vector</option>
              <option value="keyword">keyword</option>
            </select>
          </div>
          <div class="field">
            <label for="max">Max results</label>
            <input
              id="max"
              type="number"
              min={1}
              max={50}
              value={form.maxResults}
              onInput={(e) => set({ maxResults: Number(e.currentTarget.value) })}
            />
          </div>
          <div class="field">
            <label for="threshold">Score threshold (0–1)</label>
            <input
              id="threshold"
              type="number"
              min={0}
              max={1}
              step={0.05}
              value={form.threshold}
              onInput={(e) => set({ threshold: e.currentTarget.value })}
            />
          </div>
        </div>
        <fieldset class="filters">
          <legend>Filters</legend>
          <div class="row" role="radiogroup" aria-label="Filter editor">
            <label>
              <input
                type="radio"
                name="fmode"
                checked={form.filterMode === 'form'}
                onChange={() => set({ filterMode: 'form' })}
              />{' '}
              Form
            </label>
            <label>
              <input
                type="radio"
                name="fmode"
                checked={form.filterMode === 'json'}
                onChange={() => set({ filterMode: 'json' })}
              />{' '}
              JSON
            </label>
          </div>
          {form.filterMode === 'form' ? (
            <FilterRows form={form} set={set} />
          ) : (
            <>
              <label for="fjson">Filter (OpenAI comparison or compound filter)</label>
              <textarea
                id="fjson"
                class="mono"
                rows={4}
                placeholder='{"type": "eq", "key": "lang", "value": "en"}'
                value={form.json}
                onInput={(e) => set({ json: e.currentTarget.value })}
              />
            </>
          )}
        </fieldset>
        {built.error && <ErrorText>{built.error}</ErrorText>}
        {error && <ErrorText>{error}</ErrorText>}
        <button type="submit" class="primary" disabled={busy}>
          Search
        </button>
      </form>
      {hits && (
        <section class="results" aria-labelledby="results-title" aria-live="polite">
          <h2 id="results-title">
            {hits.data.length} result{hits.data.length === 1 ? '' : 's'}
          </h2>
          <ol class="hits">
            {hits.data.map((h) => (
              <li key={`${h.file_id}:${h.chunk_index}`} class="hit">
                <div class="row">
                  <strong class="score" title="score">
                    {h.score.toFixed(3)}
                  </strong>
                  <span>{h.filename}</span>
                  <span class="muted">
                    chunk {h.chunk_index}
                    {h.page != null && `, page ${h.page}`}
                  </span>
                  {h.score_details && (
                    <span class="muted">
                      vector {h.score_details.vector?.toFixed(3) ?? '—'} · text{' '}
                      {h.score_details.text?.toFixed(3) ?? '—'}
                    </span>
                  )}
                  {h.chunk_index !== undefined && (
                    <a href={href.file(storeId, h.file_id, h.chunk_index)}>Open chunk</a>
                  )}
                </div>
                {h.attributes && Object.keys(h.attributes).length > 0 && (
                  <div class="mono muted">{JSON.stringify(h.attributes)}</div>
                )}
                <p class="hit-text">
                  <Highlighted text={h.content[0]?.text ?? ''} words={hits.words} />
                </p>
              </li>
            ))}
          </ol>
        </section>
      )}
      {built.body && (
        <section class="code-panel" aria-labelledby="code-title">
          <h2 id="code-title">The same request</h2>
          <Copyable id="curl-title" label="curl" text={curlSnippet(location.origin, storeId, built.body)} />
          <Copyable
            id="sdk-title"
            label="openai (TypeScript)"
            text={sdkSnippet(location.origin, storeId, built.body)}
          />
        </section>
      )}
    </div>
  );
}
