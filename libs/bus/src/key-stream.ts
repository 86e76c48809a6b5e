import { DiscardPolicy, RetentionPolicy, StorageType, nanos, type JetStreamManager } from 'nats';
import { allEventsSubject } from './subjects';

export interface KeyStreamSettings {
  streamName: string;
  subjectPrefix: string;
  /** Replicas for a clustered JetStream; 1 on a single server. */
  replicas?: number;
}

/** Creates the key-event stream if it is missing; an existing stream is left as the operator configured it. */
export async function ensureKeyStream(jsm: JetStreamManager, settings: KeyStreamSettings): Promise<void> {
  try {
    await jsm.streams.info(settings.streamName);
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  try {
    await jsm.streams.add({
      name: settings.streamName,
      subjects: [allEventsSubject(settings.subjectPrefix)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      discard: DiscardPolicy.Old,
      num_replicas: settings.replicas ?? 1,
      // Publisher de-duplication on Nats-Msg-Id (= eventId) covers relay retries after a crash.
      duplicate_window: nanos(10 * 60 * 1000),
    });
  } catch (err) {
    // Another instance created it between our info and add.
    if (!String((err as Error).message).includes('already in use')) throw err;
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { code?: string; api_error?: { err_code?: number }; message?: string };
  return e?.code === '404' || e?.api_error?.err_code === 10059 || /not found/i.test(String(e?.message));
}
