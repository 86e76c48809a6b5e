import { takeTestServices } from './test-services';

export default async function globalTeardown(): Promise<void> {
  await takeTestServices()?.stop();
}
