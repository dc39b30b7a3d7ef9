// Small shared pieces: formatting, a modal dialog, status badges, the live message region.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export const when = (unix: number | null) => (unix ? new Date(unix * 1000).toLocaleString() : '—');

export function Status({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status.replace('_', ' ')}</span>;
}

/** A native modal <dialog>: focus moves into it and stays there, Escape closes it. */
export function Modal(props: { title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current!;
    d.showModal();
    return () => d.open && d.close();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="modal-title" onClose={props.onClose}>
      <h2 id="modal-title">{props.title}</h2>
      {props.children}
    </dialog>
  );
}

/** A confirmation dialog; the safe choice (Cancel) has focus first. */
export function Confirm(props: {
  title: string;
  message: ComponentChildren;
  action: string;
  onConfirm: () => Promise<void> | void;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <Modal title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      {error && <ErrorText>{error}</ErrorText>}
      <div class="row">
        <button type="button" autofocus onClick={props.onClose}>
          Cancel
        </button>
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await props.onConfirm();
              props.onClose();
            } catch (e) {
              setError((e as Error).message);
              setBusy(false);
            }
          }}
        >
          {props.action}
        </button>
      </div>
    </Modal>
  );
}

export function ErrorText({ children }: { children: ComponentChildren }) {
  return (
    <p class="error" role="alert">
      {children}
    </p>
  );
}

/** Runs a loader on mount and when `deps` change; `reload` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, loading: false }),
      (e: Error) => live && setState((s) => ({ ...s, error: e.message, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function announce(message: string) {
  const el = document.getElementById('live');
  if (el) el.textContent = message;
}
