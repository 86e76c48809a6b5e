export * from './key-row.projection';
export * from './security-log.projection';
export type { KeysTable, KeysTableRow } from './keys.table';
export type { SecurityLogTable, SecurityLogTableRow } from './security-log.table';
export type { KeyUsageTable } from './key-usage.table';
export * from './key-usage';
export * from './read-model.database';
export { applyEvents } from './apply-events';
export { type ProjectedBatch, lockProjectorCheckpoint, projectFromStore } from './projector-checkpoint';
export {
  type RebuildOptions,
  type RebuildProgress,
  type RebuildResult,
  RebuildInProgressError,
  rebuildReadModels,
  replayInto,
} from './rebuild';
export { type ReadModelChecksum, cleanReplayChecksum, readModelChecksum } from './checksum';
export * from './read-model.queries';
export * from './projection-freshness';
