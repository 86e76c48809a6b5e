// The entry of the published package `@keys/auth` (libs/auth/package.json): the Nest integration and everything
// of `@keys/auth/client`. It imports only public npm packages.
export * from './client';
export * from './api-error';
export * from './verdict.mapper';
export * from './client-proxy.verifier';
export * from './key-event.deserializer';
export * from './key-auth.connection';
export * from './key-auth.guard';
export * from './key-auth.module';
