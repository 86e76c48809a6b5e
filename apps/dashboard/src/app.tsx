import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiClient, messageOf } from './api.ts';
import { KeysPage } from './keys-page.tsx';
import { PageHeading } from './page.tsx';
import { SecurityLogPage } from './security-log-page.tsx';
import { clearBillingKey, loadBillingKey, saveBillingKey } from './session.ts';

const ROUTES = {
  'api-keys': 'API Keys',
  'billing-keys': 'Billing Keys',
  'security-log': 'Security log',
} as const;
type Route = keyof typeof ROUTES;

function routeOf(hash: string): Route {
  const name = hash.replace(/^#\/?/, '');
  return name in ROUTES ? (name as Route) : 'api-keys';
}

/** Pages are hash routes (#/api-keys, #/billing-keys, #/security-log): nothing secret ever goes into a URL. */
function useRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

export function App() {
  const [billingKey, setBillingKey] = useState<string | null>(() => loadBillingKey());
  const [signedOutBecause, setSignedOutBecause] = useState<string | null>(null);
  const route = useRoute();

  const signOut = (reason: string | null = null) => {
    clearBillingKey();
    setBillingKey(null);
    setSignedOutBecause(reason);
  };

  // A 401 later on (the key was deleted or expired meanwhile) ends the session with the API's sentence.
  const api = useMemo(() => (billingKey ? new ApiClient(billingKey, (error) => signOut(`Signed out: ${error.message}`)) : null), [billingKey]);

  if (!api) {
    return (
      <SignIn
        notice={signedOutBecause}
        onSignedIn={(key) => {
          saveBillingKey(key);
          setSignedOutBecause(null);
          setBillingKey(key);
        }}
      />
    );
  }

  return (
    <>
      <header class="top">
        <span class="brand">Keys</span>
        <nav aria-label="Main">
          <ul>
            {(Object.keys(ROUTES) as Route[]).map((name) => (
              <li key={name}>
                <a href={`#/${name}`} aria-current={route === name ? 'page' : undefined}>
                  {ROUTES[name]}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <button type="button" class="sign-out" onClick={() => signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">
        {route === 'api-keys' && <KeysPage key="proxy" api={api} kind="proxy" />}
        {route === 'billing-keys' && <KeysPage key="billing" api={api} kind="billing" />}
        {route === 'security-log' && <SecurityLogPage api={api} />}
      </main>
    </>
  );
}

function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (key: string) => void }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const key = value.trim();
    setBusy(true);
    setError(null);
    try {
      // Any authenticated read proves the key; the billing keys list is the cheapest.
      await new ApiClient(key).listKeys('billing');
      setValue('');
      onSignedIn(key);
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <PageHeading>Sign in</PageHeading>
      {notice && !error && (
        <p role="status" class="notice">
          {notice}
        </p>
      )}
      <form onSubmit={submit}>
        <label for="billing-key">Billing key</label>
        <input
          id="billing-key"
          type="password"
          value={value}
          required
          autocomplete="off"
          spellcheck={false}
          aria-describedby="billing-key-hint"
          onInput={(e) => setValue(e.currentTarget.value)}
        />
        <p class="hint" id="billing-key-hint">
          Paste one of your account's billing keys (<code>mk-…</code>). It stays in this browser tab and is sent only to this site's API.
        </p>
        {error && (
          <p role="alert" class="error">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
