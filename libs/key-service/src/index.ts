export * from './key-command.service';
export * from './handle-command';
export * from './key-service.errors';
export * from './request-context';
export * from './key-lookup.table';
export * from './key-service.session';
