// `@keys/auth/client`: verification and event types without Nest (needs only `nats`).
export * from './verdict';
export * from './events';
export * from './nats-connection';
export * from './key-verifier';
export * from './nats-key.verifier';
export * from './verify-key';
