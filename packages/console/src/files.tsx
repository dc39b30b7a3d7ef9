import { useEffect, useRef, useState } from 'preact/hooks';
import {
  api,
  apiWithHeaders,
  enc,
  fileInfo,
  type ListPage,
  uploadFile,
  type VectorStoreFile,
} from './api.ts';
import { href } from './router.ts';
import { announce, bytes, Confirm, ErrorText, Status, useLoad, when } from './ui.tsx';

interface Upload {
  key: number;
  name: string;
  progress: number;
  status: string;
  error?: string;
}

let uploadKeys = 0;

function FileName({ id }: { id: string }) {
  const [name, setName] = useState<string>();
  useEffect(() => {
    fileInfo(id).then(
      (f) => setName(f.filename),
      () => setName(undefined),
    );
  }, [id]);
  return <>{name ?? id}</>;
}

/** Waits for an attached file to leave in_progress, at the pace the server asks for. */
async function settle(
  storeId: string,
  fileId: string,
  onStatus: (s: string) => void,
): Promise<VectorStoreFile> {
  for (;;) {
    const { data, headers } = await apiWithHeaders<VectorStoreFile>(
      'GET',
      `/vector_stores/${enc(storeId)}/files/${enc(fileId)}`,
    );
    onStatus(data.status);
    if (data.status !== 'in_progress') return data;
    const after = Number(headers.get('openai-poll-after-ms')) || 500;
    await new Promise((r) => setTimeout(r, Math.min(Math.max(after, 200), 2000)));
  }
}

function DropZone({ storeId, onDone }: { storeId: string; onDone: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [over, setOver] = useState(false);
  const [attrs, setAttrs] = useState('');
  const [attrsError, setAttrsError] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  const patch = (key: number, p: Partial<Upload>) =>
    setUploads((us) => us.map((u) => (u.key === key ? { ...u, ...p } : u)));

  const start = (files: File[]) => {
    let attributes: unknown;
    if (attrs.trim()) {
      try {
        attributes = JSON.parse(attrs);
      } catch {
        setAttrsError('Attributes must be a JSON object, e.g. {"lang": "en"}.');
        return;
      }
    }
    setAttrsError(undefined);
    for (const file of files) {
      const key = ++uploadKeys;
      setUploads((us) => [{ key, name: file.name, progress: 0, status: 'uploading' }, ...us]);
      (async () => {
        try {
          const f = await uploadFile(file, (progress) => patch(key, { progress }));
          patch(key, { status: 'attaching' });
          const vsf = await api<VectorStoreFile>('POST', `/vector_stores/${enc(storeId)}/files`, {
            file_id: f.id,
            ...(attributes ? { attributes } : {}),
          });
          patch(key, { status: vsf.status });
          onDone();
          const done =
            vsf.status === 'in_progress'
              ? await settle(storeId, f.id, (status) => patch(key, { status }))
              : vsf;
          patch(key, { status: done.status, error: done.last_error?.message });
          announce(`${file.name}: ${done.status}`);
        } catch (e) {
          patch(key, { status: 'failed', error: (e as Error).message });
          announce(`${file.name}: failed`);
        }
        onDone();
      })();
    }
  };

  return (
    <section class="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: dropping is a mouse gesture; the file input inside is the keyboard path */}
      <div
        class={`drop${over ? ' over' : ''}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          start(Array.from(e.dataTransfer?.files ?? []));
        }}
      >
        <p>Drop files here, or</p>
        <input
          id="file-input"
          ref={input}
          class="sr-only"
          type="file"
          multiple
          onChange={(e) => {
            start(Array.from(e.currentTarget.files ?? []));
            e.currentTarget.value = '';
          }}
        />
        <label class="button" for="file-input">
          Choose files
        </label>
        <p class="hint">txt, md, pdf, docx, html, json, code… Each is uploaded, attached and parsed.</p>
      </div>
      <label for="upload-attrs">Attributes for these uploads (JSON, optional)</label>
      <input
        id="upload-attrs"
        class="mono"
        placeholder='{"lang": "en"}'
        value={attrs}
        onInput={(e) => setAttrs(e.currentTarget.value)}
      />
      {attrsError && <ErrorText>{attrsError}</ErrorText>}
      {uploads.length > 0 && (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.key} data-upload={u.name}>
              <span class="name">{u.name}</span>
              <progress max={1} value={u.progress} aria-label={`Upload of ${u.name}`} />
              <Status status={u.status} />
              {u.error && <span class="error">{u.error}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function FilesTab({ storeId, onChange }: { storeId: string; onChange: () => void }) {
  const list = useLoad(
    () => api<ListPage<VectorStoreFile>>('GET', `/vector_stores/${enc(storeId)}/files?limit=100`),
    [storeId],
  );
  const [detaching, setDetaching] = useState<string>();
  const busy = list.data?.data.some((f) => f.status === 'in_progress');
  useEffect(() => {
    if (!busy) return;
    const t = setTimeout(() => {
      list.reload();
      onChange();
    }, 1000);
    return () => clearTimeout(t);
  });
  const refresh = () => {
    list.reload();
    onChange();
  };
  return (
    <>
      <DropZone storeId={storeId} onDone={refresh} />
      <h2>Files</h2>
      {list.error && <ErrorText>{list.error}</ErrorText>}
      {list.data?.data.length === 0 && <p>No files yet.</p>}
      {list.data && list.data.data.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Files in this store</caption>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Status</th>
                <th scope="col">Attributes</th>
                <th scope="col">Usage</th>
                <th scope="col">Attached</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.data.map((f) => (
                <tr key={f.id} data-file={f.id}>
                  <td data-label="File">
                    <a href={href.file(storeId, f.id)}>
                      <FileName id={f.id} />
                    </a>
                    <div class="muted mono">{f.id}</div>
                  </td>
                  <td data-label="Status">
                    <Status status={f.status} />
                    {f.last_error && (
                      <div class="error">
                        {f.last_error.code}: {f.last_error.message}
                      </div>
                    )}
                  </td>
                  <td data-label="Attributes" class="mono">
                    {f.attributes && Object.keys(f.attributes).length ? JSON.stringify(f.attributes) : '—'}
                  </td>
                  <td data-label="Usage">{bytes(f.usage_bytes)}</td>
                  <td data-label="Attached">{when(f.created_at)}</td>
                  <td class="actions">
                    <button type="button" class="danger" onClick={() => setDetaching(f.id)}>
                      Detach<span class="sr-only"> {f.id}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {detaching && (
        <Confirm
          title="Detach this file?"
          message={
            <>
              Its chunks leave this store; the file stays in /v1/files. (<span class="mono">{detaching}</span>
              )
            </>
          }
          action="Detach"
          onConfirm={async () => {
            await api('DELETE', `/vector_stores/${enc(storeId)}/files/${enc(detaching)}`);
            announce('File detached');
            refresh();
          }}
          onClose={() => setDetaching(undefined)}
        />
      )}
    </>
  );
}
