// ISO-8601 instants are compared by the moment they denote, never as strings
// ("2030-01-01T00:00:00Z" and "2030-01-01T01:00:00+01:00" are the same instant).
// An unparseable instant compares as false both ways, so a rule that needs "after" refuses it.

export function isAfter(a: string, b: string): boolean {
  return Date.parse(a) > Date.parse(b);
}

export function isAtOrBefore(a: string, b: string): boolean {
  return Date.parse(a) <= Date.parse(b);
}

export function sameInstant(a: string | null, b: string | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  return Date.parse(a) === Date.parse(b);
}
