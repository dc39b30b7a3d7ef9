import { useState } from 'preact/hooks';
import { api, enc, type ListPage, type VectorStore } from './api.ts';
import { href } from './router.ts';
import { announce, bytes, Confirm, ErrorText, Modal, Status, useLoad, when } from './ui.tsx';

const expiry = (s: VectorStore) =>
  s.expires_after
    ? `${s.expires_after.days} d after last use${s.expires_at ? ` (${when(s.expires_at)})` : ''}`
    : 'never';

function CreateStore({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [days, setDays] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      const body: Record<string, unknown> = { name: name.trim() };
      if (days) body.expires_after = { anchor: 'last_active_at', days: Number(days) };
      const s = await api<VectorStore>('POST', '/vector_stores', body);
      announce(`Created store ${s.name ?? s.id}`);
      setName('');
      setDays('');
      onCreated();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card inline-form" onSubmit={submit} aria-labelledby="create-title">
      <h2 id="create-title">New store</h2>
      <div class="field">
        <label for="new-name">Name</label>
        <input
          id="new-name"
          required
          maxLength={256}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="new-days">Expires after (days idle, optional)</label>
        <input
          id="new-days"
          type="number"
          min={1}
          max={365}
          value={days}
          onInput={(e) => setDays(e.currentTarget.value)}
        />
      </div>
      <button type="submit" class="primary">
        Create store
      </button>
      {error && <ErrorText>{error}</ErrorText>}
    </form>
  );
}

function EditStore({
  store,
  onClose,
  onSaved,
}: {
  store: VectorStore;
  onClose: () => void;
  onSaved: () => void;
}) {
  const [name, setName] = useState(store.name ?? '');
  const [days, setDays] = useState(store.expires_after ? String(store.expires_after.days) : '');
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      await api('POST', `/vector_stores/${enc(store.id)}`, {
        name: name.trim(),
        expires_after: days ? { anchor: 'last_active_at', days: Number(days) } : null,
      });
      announce('Store saved');
      onSaved();
      onClose();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Modal title={`Edit ${store.name ?? store.id}`} onClose={onClose}>
      <form onSubmit={submit}>
        <label for="edit-name">Name</label>
        <input id="edit-name" maxLength={256} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <label for="edit-days">Expires after (days idle; empty = never)</label>
        <input
          id="edit-days"
          type="number"
          min={1}
          max={365}
          value={days}
          onInput={(e) => setDays(e.currentTarget.value)}
        />
        {error && <ErrorText>{error}</ErrorText>}
        <div class="row">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="primary">
            Save
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function StoresPage() {
  const [after, setAfter] = useState<string[]>([]);
  const list = useLoad(async () => {
    const pages: VectorStore[] = [];
    let page = await api<ListPage<VectorStore>>('GET', '/vector_stores?limit=100');
    pages.push(...page.data);
    for (const _ of after) {
      if (!page.has_more || !page.last_id) break;
      page = await api<ListPage<VectorStore>>('GET', `/vector_stores?limit=100&after=${enc(page.last_id)}`);
      pages.push(...page.data);
    }
    return { stores: pages, more: page.has_more };
  }, [after.length]);
  const [editing, setEditing] = useState<VectorStore>();
  const [deleting, setDeleting] = useState<VectorStore>();
  return (
    <>
      <h1>Vector stores</h1>
      <CreateStore onCreated={list.reload} />
      {list.error && <ErrorText>{list.error}</ErrorText>}
      {list.loading && !list.data && <p>Loading…</p>}
      {list.data && list.data.stores.length === 0 && <p>No stores yet: create one above.</p>}
      {list.data && list.data.stores.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Vector stores</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Files</th>
                <th scope="col">Usage</th>
                <th scope="col">Expiry</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.stores.map((s) => (
                <tr key={s.id}>
                  <td data-label="Name">
                    <a href={href.store(s.id)}>{s.name || s.id}</a>
                    <div class="muted mono">{s.id}</div>
                    {s.status !== 'completed' && <Status status={s.status} />}
                  </td>
                  <td data-label="Files">
                    {s.file_counts.completed}/{s.file_counts.total}
                    {s.file_counts.in_progress > 0 && (
                      <span class="badge badge-in_progress">{s.file_counts.in_progress} in progress</span>
                    )}
                    {s.file_counts.failed > 0 && (
                      <span class="badge badge-failed">{s.file_counts.failed} failed</span>
                    )}
                  </td>
                  <td data-label="Usage">{bytes(s.usage_bytes)}</td>
                  <td data-label="Expiry">{expiry(s)}</td>
                  <td data-label="Created">{when(s.created_at)}</td>
                  <td class="actions">
                    <button type="button" onClick={() => setEditing(s)} aria-label={`Edit ${s.name || s.id}`}>
                      Edit
                    </button>
                    <button
                      type="button"
                      class="danger"
                      onClick={() => setDeleting(s)}
                      aria-label={`Delete ${s.name || s.id}`}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data?.more && (
        <button type="button" onClick={() => setAfter([...after, 'more'])}>
          Load more
        </button>
      )}
      {editing && <EditStore store={editing} onClose={() => setEditing(undefined)} onSaved={list.reload} />}
      {deleting && (
        <Confirm
          title="Delete this store?"
          message={
            <>
              <strong>{deleting.name || deleting.id}</strong> and all its chunks will be deleted. The files
              stay in /v1/files.
            </>
          }
          action="Delete store"
          onConfirm={async () => {
            await api('DELETE', `/vector_stores/${enc(deleting.id)}`);
            announce('Store deleted');
            list.reload();
          }}
          onClose={() => setDeleting(undefined)}
        />
      )}
    </>
  );
}
