export * from './key-verifier';
export * from './verdict.mapper';
export * from './key-auth.guard';
