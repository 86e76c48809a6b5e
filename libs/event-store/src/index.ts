export { type Database, type CreateDatabaseOptions, createDatabase } from './database';
export { ensureDatabaseExists, databaseNameOf } from './ensure-database';
export { migrateToLatest } from './migrate';
export { eventStoreMigrations, StaticMigrationProvider } from './migrations/static-migration.provider';
export { type EventsTable, type EventRow, GENESIS_HASH } from './events.table';
export { type CheckpointsTable, readCheckpoint, saveCheckpoint } from './checkpoints.table';
export { nextAccountId, nextKeyId, nextKeyIds } from './id-sequences';
export { type AppendRequest, type NewEvent, type StoreHead, appendToStream, buildAppend } from './append';
export {
  type AppendOptions,
  type EventAppenderOptions,
  type InlineProjection,
  EventAppender,
} from './event-appender';
export {
  type StoredEvent,
  type ReadAllFromOptions,
  toEnvelope,
  toStoredEvent,
  readStream,
  readAllAfter,
  readAllFrom,
  headPosition,
} from './read';
export { toPublicEnvelope } from './public-envelope';
export { canonicalJson, computeEventHash } from './hash-chain';
export {
  type ChainBreak,
  type VerifyChainOptions,
  type VerifyChainResult,
  verifyChain,
} from './verify-chain';
export {
  EventStoreError,
  StreamVersionConflictError,
  InvalidAppendRequestError,
  EventAppenderClosedError,
  UnsafeBigintError,
  DatabaseNameError,
  MigrationFailedError,
} from './event-store.errors';
export { type OpenEventStoreOptions, openEventStore, prepareEventStore } from './open-store';
export { openEventStoreWhenReady } from './open-store-when-ready';
export { APP_FUNCTIONS, APP_SEQUENCES, APP_TABLE_PRIVILEGES, grantAppRole, roleOfUrl } from './database-roles';
export { AppendNotifications, APPENDS_CHANNEL } from './append-notifications';
export { SessionLock } from './session-lock';
