// Running probes side by side, and scoring them.
import { type Probe, recall } from './probes.ts';
import { quantile, round } from './stats.ts';

const WARM_UP = 10;

/**
 * Each query through every probe in turn (after a warm-up of the first queries), so that a slow
 * moment of a shared machine costs all probes alike and their ratios hold.
 */
export async function interleave<K extends string>(
  queries: Float32Array[],
  probes: Record<K, (q: Float32Array) => Promise<Probe>>,
): Promise<Record<K, Probe[]>> {
  const names = Object.keys(probes) as K[];
  for (const q of queries.slice(0, WARM_UP)) for (const n of names) await probes[n](q);
  const out = Object.fromEntries(names.map((n) => [n, [] as Probe[]])) as Record<K, Probe[]>;
  for (const q of queries) for (const n of names) out[n].push(await probes[n](q));
  return out;
}

/** recall@10 of a run of probes, to 4 decimals. */
export function recallOf(probes: Probe[], truth: number[][]): number {
  const ids = probes.map((p) => p.ids);
  return round(recall(ids, truth), 4);
}

/** The q-quantile of a run's latencies, in ms to 2 decimals. */
export const ms = (probes: Probe[], q = 0.5) =>
  round(
    quantile(
      probes.map((p) => p.ms),
      q,
    ),
    2,
  );
