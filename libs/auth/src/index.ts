// `@keys/auth` inside this repository: the published package (public-api.ts) with the one in-repo difference
// that KeyAuthGuard throws the platform's ApiError (see platform-key-auth.guard.ts).
export * from './public-api';
export { KeyAuthGuard } from './platform-key-auth.guard';
