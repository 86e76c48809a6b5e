import { useEffect, useState } from 'preact/hooks';
import { type ApiClient, type SecurityLogEntry, messageOf } from './api.ts';
import { actionLabel, actorLabel, formatDateTime } from './format.ts';
import { PageHeading } from './page.tsx';

export const PAGE_SIZE = 50;
const SHOWN_ELSEWHERE = new Set(['keyId', 'keyType', 'name', 'prefix', 'actor']);

/** GET /api/security-log, newest first, paged with the `before` cursor (the id of the last entry shown). */
export function SecurityLogPage({ api }: { api: ApiClient }) {
  // The cursors of the pages walked so far; the last one is the page shown (undefined: the newest).
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [entries, setEntries] = useState<SecurityLogEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const before = cursors[cursors.length - 1];

  useEffect(() => {
    let current = true;
    setEntries(null);
    setError(null);
    api.securityLog(PAGE_SIZE, before).then(
      (logs) => current && setEntries(logs),
      (e) => current && setError(messageOf(e)),
    );
    return () => {
      current = false;
    };
  }, [api, before]);

  const page = cursors.length;
  const hasOlder = entries !== null && entries.length === PAGE_SIZE;

  return (
    <>
      <PageHeading>Security log</PageHeading>
      <p class="lede">Every change to this account's keys, newest first: who made it, from which IP address, and when.</p>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p role="status" class="count">
        {entries ? `Page ${page}: ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}.` : ''}
      </p>
      {entries === null && !error && <p>Loading…</p>}
      {entries && (
        <div class="table-wrap" role="region" aria-label="Security log" tabIndex={0}>
          <table>
            <caption class="visually-hidden">Security log, page {page}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Action</th>
                <th scope="col">Key</th>
                <th scope="col">IP address</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.length === 0 && (
                <tr>
                  <td colSpan={5}>{page === 1 ? 'Nothing has happened yet.' : 'No older entries.'}</td>
                </tr>
              )}
              {entries.map((entry) => (
                <LogRow key={entry.id} entry={entry} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Security log pages">
        <button type="button" disabled={page === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          Newer entries
        </button>
        <button type="button" disabled={!hasOlder} onClick={() => entries && setCursors([...cursors, entries[entries.length - 1].id])}>
          Older entries
        </button>
      </nav>
    </>
  );
}

function LogRow({ entry }: { entry: SecurityLogEntry }) {
  const { details } = entry;
  const extra = Object.entries(details ?? {}).filter(([field]) => !SHOWN_ELSEWHERE.has(field));
  return (
    <tr>
      <td>
        <time dateTime={entry.createdAt}>{formatDateTime(entry.createdAt)}</time>
      </td>
      <td>{actionLabel(entry.action)}</td>
      <td>
        {details?.name ?? '—'} {details?.prefix && <code>{details.prefix}…</code>}
        {details?.keyType && <span class="sub">{details.keyType === 'billing' ? 'billing key' : 'API key'}</span>}
      </td>
      <td>{entry.ipAddress ?? '—'}</td>
      <td>
        {actorLabel(details?.actor) && <span>by {actorLabel(details?.actor)}</span>}
        {extra.map(([field, value]) => (
          <span class="sub" key={field}>
            {field}: {typeof value === 'string' ? value : JSON.stringify(value)}
          </span>
        ))}
      </td>
    </tr>
  );
}
