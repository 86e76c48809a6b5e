export * from './key-verifier';
export * from './verdict.mapper';
export * from './key-auth.guard';
export * from './nats-key.verifier';
export * from './key-auth.module';
