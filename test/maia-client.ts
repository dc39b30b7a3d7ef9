/**
 * Requests built the way MAIA's own clients build them (`httpx`/`requests` in its examples and
 * integration tests), against a server's /maia mount: `json=` is a JSON body, `data=` an ordinary
 * urlencoded form, `files=` a multipart body with the data fields first.
 */
export interface MaiaResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
}

export function maiaClient(serverUrl: string, headers: Record<string, string> = {}) {
  const base = `${serverUrl}/maia`;
  const send = async <T>(method: string, path: string, init: RequestInit = {}): Promise<MaiaResponse<T>> => {
    const res = await fetch(`${base}${path}`, {
      method,
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body: body as T };
  };
  return {
    base,
    get: <T = Record<string, unknown>>(path: string, params?: Record<string, string | number>) =>
      send<T>('GET', params ? `${path}?${new URLSearchParams(params as Record<string, string>)}` : path),
    delete: <T = Record<string, unknown>>(path: string) => send<T>('DELETE', path),
    /** httpx `json=` */
    json: <T = Record<string, unknown>>(path: string, body: unknown) =>
      send<T>('POST', path, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    /** httpx/requests `data=`: application/x-www-form-urlencoded */
    form: <T = Record<string, unknown>>(path: string, data: Record<string, string>) =>
      send<T>('POST', path, { body: new URLSearchParams(data) }),
    /** httpx/requests `files={"file": (name, bytes, type)}` with optional `data=` fields */
    files: <T = Record<string, unknown>>(
      path: string,
      file: [name: string, content: string | Uint8Array, type?: string] | null,
      data: Record<string, string> = {},
    ) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(data)) form.append(k, v);
      if (file) form.append('file', new Blob([file[1] as BlobPart], { type: file[2] ?? '' }), file[0]);
      return send<T>('POST', path, { body: form });
    },
    raw: send,
  };
}
export type MaiaClient = ReturnType<typeof maiaClient>;
