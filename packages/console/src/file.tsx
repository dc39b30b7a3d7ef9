import { useEffect, useState } from 'preact/hooks';
import {
  api,
  enc,
  type FileChunks,
  fileInfo,
  parsedText,
  type VectorStore,
  type VectorStoreFile,
} from './api.ts';
import { href } from './router.ts';
import { announce, bytes, ErrorText, Status, useLoad, when } from './ui.tsx';

function Attributes({
  storeId,
  file,
  onSaved,
}: {
  storeId: string;
  file: VectorStoreFile;
  onSaved: () => void;
}) {
  const [text, setText] = useState(JSON.stringify(file.attributes ?? {}, null, 2));
  const [error, setError] = useState<string>();
  const save = async (e: Event) => {
    e.preventDefault();
    let attributes: unknown;
    try {
      attributes = JSON.parse(text || '{}');
    } catch {
      setError('Not valid JSON.');
      return;
    }
    try {
      await api('POST', `/vector_stores/${enc(storeId)}/files/${enc(file.id)}`, { attributes });
      setError(undefined);
      announce('Attributes saved');
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form onSubmit={save} class="card">
      <label for="attrs">Attributes (JSON; used by search filters)</label>
      <textarea
        id="attrs"
        class="mono"
        rows={4}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      {error && <ErrorText>{error}</ErrorText>}
      <button type="submit">Save attributes</button>
    </form>
  );
}

export function FilePage({ storeId, fileId, chunk }: { storeId: string; fileId: string; chunk?: number }) {
  const vsf = useLoad(
    () => api<VectorStoreFile>('GET', `/vector_stores/${enc(storeId)}/files/${enc(fileId)}`),
    [storeId, fileId],
  );
  const info = useLoad(() => fileInfo(fileId), [fileId]);
  const store = useLoad(() => api<VectorStore>('GET', `/vector_stores/${enc(storeId)}`), [storeId]);
  const completed = vsf.data?.status === 'completed';
  const chunks = useLoad(
    async () =>
      completed
        ? api<FileChunks>('GET', `/vector_stores/${enc(storeId)}/files/${enc(fileId)}/chunks`)
        : undefined,
    [storeId, fileId, completed],
  );
  const text = useLoad(
    async () => (completed ? parsedText(storeId, fileId) : undefined),
    [storeId, fileId, completed],
  );
  useEffect(() => {
    if (vsf.data?.status !== 'in_progress') return;
    const t = setTimeout(vsf.reload, 1000);
    return () => clearTimeout(t);
  });
  useEffect(() => {
    if (chunk === undefined || !chunks.data) return;
    const el = document.getElementById(`chunk-${chunk}`);
    el?.scrollIntoView({ block: 'start' });
    el?.focus();
  }, [chunk, chunks.data]);
  const f = vsf.data;
  const name = info.data?.filename ?? fileId;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.stores()}>Stores</a> / <a href={href.store(storeId)}>{store.data?.name || storeId}</a> /{' '}
        <span>{name}</span>
      </nav>
      <h1>{name}</h1>
      {vsf.error && <ErrorText>{vsf.error}</ErrorText>}
      {f && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Status status={f.status} />
            </dd>
            {f.last_error && (
              <>
                <dt>Last error</dt>
                <dd class="error">
                  {f.last_error.code}: {f.last_error.message}
                </dd>
              </>
            )}
            <dt>File id</dt>
            <dd class="mono">{f.id}</dd>
            <dt>Size</dt>
            <dd>{info.data ? bytes(info.data.bytes) : '—'}</dd>
            <dt>Usage in store</dt>
            <dd>{bytes(f.usage_bytes)}</dd>
            <dt>Attached</dt>
            <dd>{when(f.created_at)}</dd>
            <dt>Chunks</dt>
            <dd>{chunks.data ? chunks.data.data.length : '—'}</dd>
          </dl>
          <Attributes key={JSON.stringify(f.attributes)} storeId={storeId} file={f} onSaved={vsf.reload} />
        </>
      )}
      {f && !completed && <p>The text and chunks appear once the file is completed.</p>}
      {chunks.error && <ErrorText>{chunks.error}</ErrorText>}
      {text.error && <ErrorText>{text.error}</ErrorText>}
      {text.data !== undefined && (
        <details class="card">
          <summary>
            <h2 class="inline">Parsed text</h2> ({text.data.length.toLocaleString()} characters)
          </summary>
          <pre class="text">{text.data}</pre>
        </details>
      )}
      {chunks.data && (
        <>
          <h2>Chunks</h2>
          <ol class="chunks">
            {chunks.data.data.map((c) => (
              <li key={c.chunk_index}>
                <article
                  id={`chunk-${c.chunk_index}`}
                  tabIndex={-1}
                  class={c.chunk_index === chunk ? 'chunk selected' : 'chunk'}
                  aria-labelledby={`chunk-${c.chunk_index}-h`}
                >
                  <h3 id={`chunk-${c.chunk_index}-h`}>
                    <a href={href.file(storeId, fileId, c.chunk_index)}>Chunk {c.chunk_index}</a>
                    <span class="muted">
                      {c.page !== null && ` · page ${c.page}`} · {c.tokens} tokens · chars {c.char_start}–
                      {c.char_end}
                    </span>
                  </h3>
                  <pre class="text">{c.text}</pre>
                </article>
              </li>
            ))}
          </ol>
        </>
      )}
    </>
  );
}
