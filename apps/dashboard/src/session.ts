// The session's billing key lives in this tab only: sessionStorage, so a reload keeps it and closing the tab ends it.
// Nothing else the dashboard handles (least of all a new key's full value) is ever stored.

const STORAGE_KEY = 'keys-dashboard.billing-key';

export function loadBillingKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveBillingKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    /* storage unavailable: the key stays in memory for this page only */
  }
}

export function clearBillingKey(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    /* nothing stored */
  }
}
