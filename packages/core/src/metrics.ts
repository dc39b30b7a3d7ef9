type Labels = Record<string, string>;

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const key = (name: string, labels: Labels) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/["\\\n]/g, '_')}"`)
    .join(',')}}`;

/**
 * The process's counters and latency histograms: rendered as Prometheus text for /metrics locally, and
 * flushed as CloudWatch Embedded Metric Format lines on Lambda. Small on purpose: a few dozen series.
 */
export class Metrics {
  private counters = new Map<string, { name: string; labels: Labels; value: number }>();
  private histograms = new Map<string, { name: string; labels: Labels; h: Histogram }>();
  private gauges = new Map<string, () => number>();
  private help = new Map<string, string>();

  describe(name: string, help: string): void {
    this.help.set(name, help);
  }

  inc(name: string, labels: Labels = {}, by = 1): void {
    const k = key(name, labels);
    const c = this.counters.get(k);
    if (c) c.value += by;
    else this.counters.set(k, { name, labels, value: by });
  }

  /** Records a duration in seconds. */
  observe(name: string, labels: Labels, seconds: number): void {
    const k = key(name, labels);
    let entry = this.histograms.get(k);
    if (!entry) {
      entry = { name, labels, h: { counts: BUCKETS.map(() => 0), sum: 0, count: 0 } };
      this.histograms.set(k, entry);
    }
    const { h } = entry;
    h.sum += seconds;
    h.count += 1;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]! += 1;
  }

  /** A value read when metrics are rendered (pool use, queue depth). */
  gauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  /** Prometheus text exposition format 0.0.4. */
  prometheus(): string {
    const lines: string[] = [];
    const typed = new Set<string>();
    const head = (name: string, type: string) => {
      if (typed.has(name)) return;
      typed.add(name);
      const help = this.help.get(name);
      if (help) lines.push(`# HELP ${name} ${help}`);
      lines.push(`# TYPE ${name} ${type}`);
    };
    for (const c of this.counters.values()) {
      head(c.name, 'counter');
      lines.push(`${key(c.name, c.labels)} ${c.value}`);
    }
    for (const { name, labels, h } of this.histograms.values()) {
      head(name, 'histogram');
      BUCKETS.forEach((b, i) => {
        lines.push(`${key(`${name}_bucket`, { ...labels, le: String(b) })} ${h.counts[i]}`);
      });
      lines.push(`${key(`${name}_bucket`, { ...labels, le: '+Inf' })} ${h.count}`);
      lines.push(`${key(`${name}_sum`, labels)} ${h.sum}`);
      lines.push(`${key(`${name}_count`, labels)} ${h.count}`);
    }
    for (const [name, read] of this.gauges) {
      head(name, 'gauge');
      lines.push(`${name} ${read()}`);
    }
    return `${lines.join('\n')}\n`;
  }

  /**
   * CloudWatch Embedded Metric Format: one JSON line per label set, written to the log. CloudWatch
   * turns them into metrics without an API call. Counters are reset after each flush (deltas).
   */
  emf(namespace: string): string[] {
    const out: string[] = [];
    const timestamp = Date.now();
    const line = (labels: Labels, values: Record<string, number>, units: Record<string, string>) => {
      const dims = Object.keys(labels);
      out.push(
        JSON.stringify({
          _aws: {
            Timestamp: timestamp,
            CloudWatchMetrics: [
              {
                Namespace: namespace,
                Dimensions: [dims],
                Metrics: Object.keys(values).map((Name) => ({ Name, Unit: units[Name] ?? 'Count' })),
              },
            ],
          },
          ...labels,
          ...values,
        }),
      );
    };
    for (const c of this.counters.values()) line(c.labels, { [c.name]: c.value }, {});
    for (const { name, labels, h } of this.histograms.values()) {
      if (h.count) line(labels, { [name]: (h.sum / h.count) * 1000 }, { [name]: 'Milliseconds' });
    }
    this.counters.clear();
    this.histograms.clear();
    return out;
  }
}

/** The one registry of this process. */
export const metrics = new Metrics();
metrics.describe('http_requests_total', 'HTTP requests by method, route and status');
metrics.describe('http_request_duration_seconds', 'HTTP request latency by route');
metrics.describe('embedding_requests_total', 'Embedding provider requests by outcome');
metrics.describe('embedding_retries_total', 'Embedding requests retried');
metrics.describe('embedding_tokens_total', 'Tokens sent to the embedding provider');
metrics.describe('ingest_jobs_total', 'Ingest jobs by outcome');
metrics.describe('ingest_duration_seconds', 'Time to ingest one file');
metrics.describe('search_duration_seconds', 'Search latency by mode');
metrics.describe(
  'query_embedding_cache_total',
  'Search query embeddings served from the cache (hit) or embedded (miss)',
);
