import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiFailure, api, onUnauthorized, session } from './api.ts';
import { FilePage } from './file.tsx';
import { href, useRoute } from './router.ts';
import { StorePage } from './store.tsx';
import { StoresPage } from './stores.tsx';
import { ErrorText } from './ui.tsx';

function SignIn({ onSignedIn, expired }: { onSignedIn: () => void; expired: boolean }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('GET', '/vector_stores?limit=1', undefined, key.trim());
      session.signIn(key.trim());
      onSignedIn();
    } catch (err) {
      const f = err as ApiFailure;
      setError(
        f.status === 401
          ? key.trim()
            ? 'This key was refused. Check it and try again.'
            : 'This server needs an API key.'
          : f.message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>vectordb console</h1>
      <form onSubmit={submit} class="card">
        <h2>Sign in</h2>
        {expired && <p>Your key was refused; sign in again.</p>}
        <label for="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autocomplete="off"
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby="key-help"
        />
        <p id="key-help" class="hint">
          The key stays in this browser tab (session storage) and is sent as a Bearer header. A server started
          without keys on this machine accepts an empty key.
        </p>
        {error && <ErrorText>{error}</ErrorText>}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [signedIn, setSignedIn] = useState(session.key() !== undefined);
  const [expired, setExpired] = useState(false);
  const route = useRoute();
  useEffect(
    () =>
      onUnauthorized(() => {
        session.signOut();
        setExpired(true);
        setSignedIn(false);
      }),
    [],
  );
  if (!signedIn) return <SignIn expired={expired} onSignedIn={() => setSignedIn(true)} />;
  return (
    <>
      <header class="top">
        <a class="brand" href={href.stores()}>
          vectordb console
        </a>
        <nav aria-label="Main">
          <a href={href.stores()}>Stores</a>
          <a href="/docs">API reference</a>
          <button
            type="button"
            onClick={() => {
              session.signOut();
              setExpired(false);
              setSignedIn(false);
            }}
          >
            Sign out
          </button>
        </nav>
      </header>
      <main id="main">
        {route.page === 'stores' && <StoresPage />}
        {route.page === 'store' && <StorePage id={route.id} tab={route.tab} />}
        {route.page === 'file' && <FilePage storeId={route.id} fileId={route.fileId} chunk={route.chunk} />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
