// Hash routes, so the server serves one page for all of them and nothing of the state goes to it.
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'stores' }
  | { page: 'store'; id: string; tab: 'files' | 'search' | 'health' }
  | { page: 'file'; id: string; fileId: string; chunk?: number };

export function parse(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'stores' && parts[1]) {
    if (parts[2] === 'files' && parts[3]) {
      const chunk = parts[4] === 'chunks' && parts[5] ? Number(parts[5]) : undefined;
      return { page: 'file', id: parts[1], fileId: parts[3], chunk };
    }
    const tab = parts[2] === 'search' || parts[2] === 'health' ? parts[2] : 'files';
    return { page: 'store', id: parts[1], tab };
  }
  return { page: 'stores' };
}

export const href = {
  stores: () => '#/',
  store: (id: string, tab = 'files') =>
    `#/stores/${encodeURIComponent(id)}${tab === 'files' ? '' : `/${tab}`}`,
  file: (id: string, fileId: string, chunk?: number) =>
    `#/stores/${encodeURIComponent(id)}/files/${encodeURIComponent(fileId)}${chunk === undefined ? '' : `/chunks/${chunk}`}`,
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const on = () => setRoute(parse(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}
