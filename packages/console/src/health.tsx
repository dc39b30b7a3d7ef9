import { api, enc, type ListPage, metricsText, type VectorStore, type VectorStoreFile } from './api.ts';
import { href } from './router.ts';
import { bytes, ErrorText, useLoad, when } from './ui.tsx';

interface Sample {
  name: string;
  labels: string;
  value: number;
}

/** The counters of a Prometheus text page (histograms' parts are left out). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+([-+\deE.]+|NaN)$/.exec(line.trim());
    if (!m || /_(bucket|sum|count)$/.test(m[1]!)) continue;
    out.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

const SHOWN = /cache|ingest_jobs_total|embedding_requests_total|embedding_retries_total/;

interface Stats {
  chunk_count: number;
  embedding_cache: { hits: number; misses: number };
}

export function HealthTab({ store, reload }: { store: VectorStore; reload: () => void }) {
  const stats = useLoad(
    () => api<Stats>('GET', `/vector_stores/${enc(store.id)}/stats`),
    [store.id, store.file_counts.completed, store.usage_bytes],
  );
  const cache = stats.data?.embedding_cache;
  const failed = useLoad(
    () =>
      api<ListPage<VectorStoreFile>>('GET', `/vector_stores/${enc(store.id)}/files?filter=failed&limit=20`),
    [store.id, store.file_counts.failed],
  );
  const metrics = useLoad(async () => {
    const text = await metricsText();
    return text === undefined ? undefined : parseMetrics(text).filter((s) => SHOWN.test(s.name));
  }, [store.id]);
  const c = store.file_counts;
  const cacheShown = metrics.data?.some((s) => s.name.includes('cache'));
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">Health</h2>
      <ul class="tiles">
        <li class={c.in_progress ? 'tile busy' : 'tile'}>
          <strong>{c.in_progress}</strong> jobs in progress
        </li>
        <li class={c.failed ? 'tile bad' : 'tile'}>
          <strong>{c.failed}</strong> failed
        </li>
        <li class="tile">
          <strong>{c.completed}</strong> completed
        </li>
        <li class="tile">
          <strong>{c.cancelled}</strong> cancelled
        </li>
        <li class="tile">
          <strong>{bytes(store.usage_bytes)}</strong> used
        </li>
        <li class="tile">
          <strong>{stats.data?.chunk_count ?? '—'}</strong> chunks
        </li>
        <li class="tile">
          <strong>{cache ? cache.hits : '—'}</strong> embedding cache hits
          {cache && cache.hits + cache.misses > 0 && (
            <span class="muted">
              {' '}
              ({Math.round((100 * cache.hits) / (cache.hits + cache.misses))}% of chunks)
            </span>
          )}
        </li>
      </ul>
      <p class="muted">
        Last active {when(store.last_active_at)} · expires{' '}
        {store.expires_at ? when(store.expires_at) : 'never'}{' '}
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </p>
      <h3>Failures</h3>
      {stats.error && <ErrorText>{stats.error}</ErrorText>}
      {failed.error && <ErrorText>{failed.error}</ErrorText>}
      {failed.data?.data.length === 0 && <p>No failed files.</p>}
      {failed.data && failed.data.data.length > 0 && (
        <ul>
          {failed.data.data.map((f) => (
            <li key={f.id}>
              <a href={href.file(store.id, f.id)} class="mono">
                {f.id}
              </a>
              : {f.last_error ? `${f.last_error.code}: ${f.last_error.message}` : 'no error recorded'}
            </li>
          ))}
        </ul>
      )}
      <h3>Server counters</h3>
      {metrics.data === undefined && !metrics.loading && (
        <p>This server does not expose /metrics to this key.</p>
      )}
      {metrics.data && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Server counters since start</caption>
            <thead>
              <tr>
                <th scope="col">Counter</th>
                <th scope="col">Labels</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {metrics.data.map((s) => (
                <tr key={s.name + s.labels}>
                  <td class="mono">{s.name}</td>
                  <td class="mono">{s.labels || '—'}</td>
                  <td>{s.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {metrics.data && !cacheShown && <p class="muted">No embedding cache counters on this server.</p>}
    </section>
  );
}
