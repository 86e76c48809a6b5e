export * from './key-command.service';
export * from './key-service.errors';
export * from './request-context';
export * from './key-index.table';
export * from './key-service.session';
