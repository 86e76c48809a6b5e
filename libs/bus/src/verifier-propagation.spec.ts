import { encodeJson } from './envelope-codec';
import { VerifierRoster, parseAnnouncement, parseFence } from './verifier-propagation';

describe('VerifierRoster', () => {
  it('lists the serving, live instances that have not applied a position', () => {
    const roster = new VerifierRoster(1000);
    roster.observe({ instance: 'a', applied: 10, serving: true }, 0);
    roster.observe({ instance: 'b', applied: 7, serving: true }, 0);
    roster.observe({ instance: 'c', applied: 1, serving: false }, 0);
    expect(roster.behind(8, 100)).toEqual(['b']);
    expect(roster.behind(11, 100).sort()).toEqual(['a', 'b']);
    expect(roster.behind(7, 100)).toEqual([]);
    expect(roster.serving(100)).toBe(2);
  });

  it('stops counting an instance not heard from within the liveness window, without taking its silence for a confirmation', () => {
    const roster = new VerifierRoster(1000);
    roster.observe({ instance: 'a', applied: 1, serving: true }, 0);
    expect(roster.behind(5, 1000)).toEqual(['a']);
    expect(roster.behind(5, 1001)).toEqual([]);
    expect(roster.serving(1001)).toBe(0);
    expect(roster.settled('a', 5)).toBe(false);
    expect(roster.settled('a', 1)).toBe(true);
    expect(roster.settled('never-seen', 1)).toBe(false);
  });

  it('never moves an instance back when announcements overtake each other', () => {
    const roster = new VerifierRoster(1000);
    roster.observe({ instance: 'a', applied: 9, serving: true }, 0);
    roster.observe({ instance: 'a', applied: 4, serving: true }, 1);
    expect(roster.behind(9, 2)).toEqual([]);
  });

  it('stops waiting for an instance that says it left the queue group', () => {
    const roster = new VerifierRoster(1000);
    roster.observe({ instance: 'a', applied: 1, serving: true }, 0);
    roster.observe({ instance: 'a', applied: 1, serving: false }, 10);
    expect(roster.behind(5, 20)).toEqual([]);
    expect(roster.settled('a', 5)).toBe(true);
  });
});

describe('announcement and fence codecs', () => {
  it('accept their shapes and refuse everything else', () => {
    expect(parseAnnouncement(encodeJson({ instance: 'x', applied: 3, serving: true }))).toEqual({ instance: 'x', applied: 3, serving: true });
    for (const bad of [null, 1, 'x', {}, { instance: '', applied: 1, serving: true }, { instance: 'x', applied: -1, serving: true }, { instance: 'x', applied: 1.5, serving: true }, { instance: 'x', applied: 1, serving: 'yes' }, { instance: 'y'.repeat(65), applied: 1, serving: true }]) {
      expect(parseAnnouncement(encodeJson(bad))).toBeNull();
    }
    expect(parseAnnouncement(new TextEncoder().encode('{'))).toBeNull();
    expect(parseFence(encodeJson({ position: 12 }))).toEqual({ position: 12 });
    for (const bad of [{ position: 0 }, { position: '12' }, { position: 2 ** 60 }, [], null]) expect(parseFence(encodeJson(bad))).toBeNull();
  });
});
