// Searches per second with several clients at once, and the CPU one search costs.
import { apiSearch, type ChunkKeys } from './probes.ts';
import { round } from './stats.ts';

export const CLIENTS = [1, 4, 16] as const;

/**
 * `perClient` searches from each of `clients` concurrent loops over the queries; searches/s is their
 * total over the wall time. CPU is this process's (the HTTP server and its client; on PGlite, the
 * engine too) per search, from the single-client run; on a native server the database's own CPU is
 * not in it.
 */
export async function benchThroughput(
  url: string,
  store: string,
  queries: Float32Array[],
  keys: ChunkKeys,
  perClient: number,
) {
  const out: Record<string, number> = {};
  let cpuMs = 0;
  for (const clients of CLIENTS) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < perClient; i++) {
          await apiSearch(url, store, queries[(c * perClient + i) % queries.length]!, keys);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    out[`searches_per_s_${clients}`] = round((clients * perClient) / seconds, 1);
    if (clients === 1) {
      const used = process.cpuUsage(cpu);
      cpuMs = (used.user + used.system) / 1000 / perClient;
    }
  }
  return { cpu_ms_per_search: round(cpuMs, 2), ...out } as {
    cpu_ms_per_search: number;
    searches_per_s_1: number;
    searches_per_s_4: number;
    searches_per_s_16: number;
  };
}
