/**
 * The reply subjects a verify answer may be published on: a requester's inbox, and nothing else.
 *
 *   `_INBOX.…`    nats.js `request()` with the default inbox prefix (`_INBOX.<nuid>.<token>`)
 *   `_INBOX_….…`  a per-user inbox prefix (NATS_INBOX_PREFIX, e.g. `_INBOX_command`), as deploy/nats.conf uses
 *   `_R_.…`       a request from another account through the service import: NATS replaces the requester's
 *                 reply subject with one of these and routes the answer back itself
 *
 * The reply subject is chosen by whoever sends the request, so without this check a requester could make
 * the verifier publish a verdict on `$JS.API.STREAM.PURGE.KEYS`, `$SYS.…` or an event subject.
 * A verify request without a reply subject has nothing to publish and is not judged here.
 */
export type ReplySubjectCheck = (reply: string) => boolean;

const INBOX = '_INBOX.';
const USER_INBOX = '_INBOX_';
const SERVICE_IMPORT_REPLY = '_R_.';

/** `prefix` and at least one character after it. */
const startsWithMore = (reply: string, prefix: string): boolean => reply.length > prefix.length && reply.startsWith(prefix);

/**
 * A check for the verifier of `<subjectPrefix>`: prefix comparisons only, no regex and no allocation per
 * call (it runs for every verify request).
 */
export function replySubjectCheck(subjectPrefix: string): ReplySubjectCheck {
  // Belt and braces for a prefix that itself starts like an inbox: events are never an answer's target.
  const events = `${subjectPrefix}.events.`;
  return (reply) =>
    (startsWithMore(reply, INBOX) || startsWithMore(reply, USER_INBOX) || startsWithMore(reply, SERVICE_IMPORT_REPLY)) &&
    // No wildcard: a reply of `_INBOX.>` would reach every subscriber of a wildcard inbox.
    !reply.includes('*') &&
    !reply.includes('>') &&
    !reply.startsWith(events);
}
