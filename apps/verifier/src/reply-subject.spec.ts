import { replySubjectCheck } from './reply-subject';

describe('replySubjectCheck', () => {
  const isInbox = replySubjectCheck('keys.v1');

  it.each([
    ['nats.js request() with the default prefix', '_INBOX.hJ7Vb4vJuWkH1sQn2Ab9cD.3'],
    ['a per-user inbox prefix (NATS_INBOX_PREFIX)', '_INBOX_command.hJ7Vb4vJuWkH1sQn2Ab9cD.12'],
    ['a service-import reply from another account', '_R_.hK2Lm9.Zx81Pq0wYt'],
  ])('accepts %s', (_what, reply) => {
    expect(isInbox(reply)).toBe(true);
  });

  it.each([
    ['the JetStream API', '$JS.API.STREAM.PURGE.KEYS'],
    ['a JetStream ack', '$JS.ACK.KEYS.projector.1.1.1.1700000000000000000.0'],
    ['the system account', '$SYS.REQ.SERVER.PING'],
    ['an event subject', 'keys.v1.events.1.KeyDeleted'],
    ['the verify subject', 'keys.v1.verify'],
    ['an arbitrary subject', 'orders.created'],
    ['a bare inbox prefix', '_INBOX.'],
    ['a bare service-import prefix', '_R_.'],
    ['an inbox wildcard', '_INBOX.>'],
    ['a wildcard inside an inbox', '_INBOX.abc.*'],
    ['a look-alike', '_INBOXES.abc'],
    ['a look-alike of the import reply', '_R_x.abc'],
    ['an inbox without the separator', '_INBOXabc'],
    ['the empty subject', ''],
  ])('refuses %s', (_what, reply) => {
    expect(isInbox(reply)).toBe(false);
  });

  it('refuses the event subjects even under a prefix that looks like an inbox', () => {
    const odd = replySubjectCheck('_INBOX.keys');
    expect(odd('_INBOX.keys.events.1.KeyDeleted')).toBe(false);
    expect(odd('_INBOX.hJ7Vb4vJuWkH1sQn2Ab9cD.3')).toBe(true);
  });
});
