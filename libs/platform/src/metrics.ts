import { Counter, Gauge, Histogram, collectDefaultMetrics, register, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';

// Metrics live in the process-wide registry; these return the existing metric when a module is created twice
// in one process (tests, or several apps started together). Labels never carry key material.

export function counter<T extends string>(config: CounterConfiguration<T>): Counter<T> {
  return (register.getSingleMetric(config.name) as Counter<T>) ?? new Counter(config);
}

export function gauge<T extends string>(config: GaugeConfiguration<T>): Gauge<T> {
  return (register.getSingleMetric(config.name) as Gauge<T>) ?? new Gauge(config);
}

export function histogram<T extends string>(config: HistogramConfiguration<T>): Histogram<T> {
  return (register.getSingleMetric(config.name) as Histogram<T>) ?? new Histogram(config);
}

let defaultMetricsStarted = false;

/**
 * prom-client's process and Node.js runtime metrics (process_cpu_*, process_resident_memory_bytes,
 * nodejs_eventloop_lag_*, nodejs_heap_*, nodejs_gc_*, nodejs_active_handles{type}...), registered once per process
 * however many apps start in it (collectDefaultMetrics throws on a second registration).
 */
export function collectDefaultMetricsOnce(): void {
  if (defaultMetricsStarted || register.getSingleMetric('process_cpu_user_seconds_total')) {
    defaultMetricsStarted = true;
    return;
  }
  collectDefaultMetrics();
  // Gauges named *_total fail `promtool check metrics`; sum(nodejs_active_handles) etc. (by type) give the same totals.
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) register.removeSingleMetric(name);
  defaultMetricsStarted = true;
}

const GAUGES_NAMED_LIKE_COUNTERS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];
