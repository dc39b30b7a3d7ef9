// The console's one way to the API: same origin, the key from sessionStorage as a Bearer header.

const KEY = 'vectordb.console.apiKey';

export const enc = encodeURIComponent;

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}
export interface ExpiresAfter {
  anchor: 'last_active_at';
  days: number;
}
export interface VectorStore {
  id: string;
  name: string | null;
  status: string;
  usage_bytes: number;
  file_counts: FileCounts;
  created_at: number;
  last_active_at: number | null;
  expires_after: ExpiresAfter | null;
  expires_at: number | null;
  metadata: Record<string, string> | null;
}
export type Attributes = Record<string, string | number | boolean>;
export interface VectorStoreFile {
  id: string;
  status: 'in_progress' | 'completed' | 'failed' | 'cancelled';
  last_error: { code: string; message: string } | null;
  usage_bytes: number;
  created_at: number;
  attributes: Attributes | null;
  chunking_strategy?: unknown;
}
export interface FileObject {
  id: string;
  filename: string;
  bytes: number;
  created_at: number;
}
export interface Chunk {
  chunk_index: number;
  page: number | null;
  tokens: number;
  char_start: number;
  char_end: number;
  text: string;
}
export interface FileChunks {
  file_id: string;
  data: Chunk[];
}

/** A file's parsed text: every page of …/files/{id}/content, joined. */
export async function parsedText(storeId: string, fileId: string): Promise<string> {
  let text = '';
  let page: string | null = null;
  do {
    const query: string = page ? `?page=${enc(page)}` : '';
    const res: { data: { text: string }[]; next_page: string | null } = await api(
      'GET',
      `/vector_stores/${enc(storeId)}/files/${enc(fileId)}/content${query}`,
    );
    text += res.data.map((d) => d.text).join('');
    page = res.next_page;
  } while (page);
  return text;
}
export interface SearchHit {
  file_id: string;
  filename: string;
  score: number;
  attributes: Attributes | null;
  content: { type: 'text'; text: string }[];
  chunk_index?: number;
  page?: number | null;
  score_details?: { vector: number | null; text: number | null } | null;
}
export interface ListPage<T> {
  data: T[];
  has_more: boolean;
  last_id: string | null;
}

/** An error the API answered with, in its OpenAI envelope. */
export class ApiFailure extends Error {
  readonly status: number;
  readonly code: string | null;
  constructor(status: number, message: string, code?: string | null) {
    super(message);
    this.status = status;
    this.code = code ?? null;
  }
}

export const session = {
  /** undefined: not signed in; '' : signed in to an open server without a key. */
  key: (): string | undefined => sessionStorage.getItem(KEY) ?? undefined,
  signIn: (key: string) => sessionStorage.setItem(KEY, key),
  signOut: () => sessionStorage.removeItem(KEY),
};

const listeners = new Set<() => void>();
/** Called when the API refuses the key (401): the app shows the sign-in form again. */
export const onUnauthorized = (f: () => void) => {
  listeners.add(f);
  return () => listeners.delete(f);
};

function authHeaders(key = session.key()): Record<string, string> {
  return key ? { authorization: `Bearer ${key}` } : {};
}

async function failure(res: Response): Promise<ApiFailure> {
  let body: { error?: { message?: string; code?: string } } = {};
  try {
    body = await res.json();
  } catch {
    // not JSON: keep the status text
  }
  const e = body.error;
  return new ApiFailure(res.status, e?.message ?? `${res.status} ${res.statusText}`, e?.code);
}

/** Calls /v1{path}; throws ApiFailure on a non-2xx answer. `key` overrides the session's (sign-in). */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  key?: string,
  extra: Record<string, string> = {},
): Promise<T> {
  return (await apiWithHeaders<T>(method, path, body, key, extra)).data;
}

/** As api(), with the response headers (e.g. openai-poll-after-ms). */
export async function apiWithHeaders<T>(
  method: string,
  path: string,
  body?: unknown,
  key?: string,
  extra: Record<string, string> = {},
): Promise<{ data: T; headers: Headers }> {
  const headers: Record<string, string> = { ...authHeaders(key ?? session.key()), ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401 && key === undefined) for (const f of listeners) f();
    throw err;
  }
  return { data: (await res.json()) as T, headers: res.headers };
}

/** The Prometheus text of /metrics, or undefined when this server has none for the key. */
export async function metricsText(): Promise<string | undefined> {
  const res = await fetch('/metrics', { headers: authHeaders() });
  return res.ok ? res.text() : undefined;
}

/** Uploads one file to /v1/files, reporting the fraction sent; XHR, because fetch has no upload progress. */
export function uploadFile(file: File, onProgress: (fraction: number) => void): Promise<FileObject> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/v1/files');
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: { error?: { message?: string; code?: string } } & Partial<FileObject> = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // keep the status
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as FileObject);
      } else reject(new ApiFailure(xhr.status, body.error?.message ?? `upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiFailure(0, 'The upload could not reach the server.'));
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

const fileCache = new Map<string, Promise<FileObject>>();
/** A file's name and size (the vector store file object has neither), fetched once per id. */
export function fileInfo(id: string): Promise<FileObject> {
  let p = fileCache.get(id);
  if (!p) {
    p = api<FileObject>('GET', `/files/${encodeURIComponent(id)}`);
    p.catch(() => fileCache.delete(id));
    fileCache.set(id, p);
  }
  return p;
}
