import { api, enc, type VectorStore } from './api.ts';
import { FilesTab } from './files.tsx';
import { HealthTab } from './health.tsx';
import { href } from './router.ts';
import { SearchTab } from './search.tsx';
import { bytes, ErrorText, useLoad } from './ui.tsx';

const TABS = [
  ['files', 'Files'],
  ['search', 'Search'],
  ['health', 'Health'],
] as const;

export function StorePage({ id, tab }: { id: string; tab: 'files' | 'search' | 'health' }) {
  const store = useLoad(() => api<VectorStore>('GET', `/vector_stores/${enc(id)}`), [id]);
  const s = store.data;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.stores()}>Stores</a> / <span>{s?.name || id}</span>
      </nav>
      <h1>{s?.name || id}</h1>
      {store.error && <ErrorText>{store.error}</ErrorText>}
      {s && (
        <p class="muted">
          <span class="mono">{s.id}</span> · {s.file_counts.completed}/{s.file_counts.total} files ·{' '}
          {bytes(s.usage_bytes)}
        </p>
      )}
      <nav class="tabs" aria-label="Store sections">
        {TABS.map(([t, label]) => (
          <a key={t} href={href.store(id, t)} aria-current={tab === t ? 'page' : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === 'files' && <FilesTab storeId={id} onChange={store.reload} />}
      {tab === 'search' && <SearchTab storeId={id} />}
      {tab === 'health' && s && <HealthTab store={s} reload={store.reload} />}
    </>
  );
}
