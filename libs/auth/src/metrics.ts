// Metrics through prom-client's default registry when the service has prom-client (an optional peer), and
// nothing otherwise: a service without Prometheus should not have to install it.

type Labels = Record<string, string>;

export interface CounterLike {
  inc(labels?: Labels): void;
}
export interface HistogramLike {
  startTimer(): (labels?: Labels) => void;
}

interface PromClient {
  register: { getSingleMetric(name: string): unknown };
  Counter: new (config: object) => CounterLike;
  Histogram: new (config: object) => HistogramLike;
}

interface MetricConfig {
  name: string;
  help: string;
  labelNames?: string[];
}

let loaded: PromClient | null | undefined;

function promClient(): PromClient | null {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- optional peer: absent is fine
      loaded = require('prom-client') as PromClient;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** Reuses a metric of the same name (several apps in one process, or a second copy of this package). */
export function counter(config: MetricConfig): CounterLike {
  const prom = promClient();
  if (!prom) return { inc: () => undefined };
  return (prom.register.getSingleMetric(config.name) as CounterLike | undefined) ?? new prom.Counter(config);
}

export function histogram(config: MetricConfig & { buckets: number[] }): HistogramLike {
  const prom = promClient();
  if (!prom) return { startTimer: () => () => undefined };
  return (prom.register.getSingleMetric(config.name) as HistogramLike | undefined) ?? new prom.Histogram(config);
}
