/** Containers started by global-setup, kept on globalThis for global-teardown (same process). */
export interface StartedTestServices {
  stop(): Promise<void>;
}

const KEY = '__keysTestServices__';

export function rememberTestServices(services: StartedTestServices): void {
  (globalThis as Record<string, unknown>)[KEY] = services;
}

export function takeTestServices(): StartedTestServices | undefined {
  const g = globalThis as Record<string, unknown>;
  const services = g[KEY] as StartedTestServices | undefined;
  delete g[KEY];
  return services;
}
