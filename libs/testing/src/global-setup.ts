import { rememberTestServices } from './test-services';

/**
 * Uses the Postgres and NATS named by TEST_DATABASE_URL / NATS_URL when both are set; otherwise
 * starts throwaway ones with testcontainers. Workers inherit process.env, so tests only read the env.
 * Configured on the int and e2e projects only (jest.config.js), so a unit-only run never gets here.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL && process.env.NATS_URL) return;

  // Loaded only here, so machines that bring their own services never need Docker or its client.
  const { GenericContainer, Wait } = await import('testcontainers');
  const [postgres, nats] = await Promise.all([
    new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      // The entrypoint starts Postgres twice (init, then for real): wait for the second.
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
    new GenericContainer('nats:2.10-alpine')
      .withCommand(['-js'])
      .withExposedPorts(4222)
      .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
      .start(),
  ]);
  rememberTestServices({
    async stop() {
      await Promise.all([postgres.stop(), nats.stop()]);
    },
  });
  process.env.TEST_DATABASE_URL = `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`;
  process.env.NATS_URL = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
}
