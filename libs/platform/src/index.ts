export * from './config';
export * from './api-error';
export * from './api-exception.filter';
export * from './http-app';
export * from './readiness';
export * from './health.http.controller';
export * from './observability.module';
export * from './metrics';
