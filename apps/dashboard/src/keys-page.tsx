import { useCallback, useEffect, useId, useState } from 'preact/hooks';
import { type ApiClient, type ApiKey, type CreatedKey, type KeyKind, messageOf } from './api.ts';
import { Dialog } from './dialog.tsx';
import { formatDateTime, fromLocalInput, statusOf, toLocalInput } from './format.ts';
import { PageHeading } from './page.tsx';
import { SecretDialog } from './secret-dialog.tsx';

type DialogState =
  | { type: 'create' }
  | { type: 'secret'; created: CreatedKey; reason: 'created' | 'rotated' }
  | { type: 'rename'; key: ApiKey }
  | { type: 'expiry'; key: ApiKey }
  | { type: 'rotate'; key: ApiKey }
  | { type: 'delete'; key: ApiKey };

interface KeysPageProps {
  api: ApiClient;
  kind: KeyKind;
}

const TITLES: Record<KeyKind, { title: string; noun: string; empty: string }> = {
  proxy: { title: 'API Keys', noun: 'API key', empty: 'No API keys yet. Create one to call the services that verify them.' },
  billing: { title: 'Billing Keys', noun: 'billing key', empty: 'No billing keys.' },
};

/** The account's proxy keys (/api/keys) or billing keys (/api/billing-keys): list, create and every per-key change. */
export function KeysPage({ api, kind }: KeysPageProps) {
  const { title, noun, empty } = TITLES[kind];
  const [keys, setKeys] = useState<ApiKey[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState('');
  const [dialog, setDialog] = useState<DialogState | null>(null);

  const load = useCallback(async () => {
    try {
      setKeys(await api.listKeys(kind));
    } catch (e) {
      setError(messageOf(e));
    }
  }, [api, kind]);

  useEffect(() => {
    setKeys(null);
    setError(null);
    setNotice('');
    setDialog(null);
    void load();
  }, [load]);

  /** Runs a change from a row or a dialog; a refusal is shown as the API's sentence. */
  const act = async (work: () => Promise<string>): Promise<boolean> => {
    setError(null);
    try {
      setNotice(await work());
      await load();
      return true;
    } catch (e) {
      setNotice('');
      setError(messageOf(e));
      return false;
    }
  };

  const toggle = (key: ApiKey) =>
    act(async () => {
      await api.updateKey(kind, key.id, { active: !key.active });
      return key.active ? `Deactivated “${key.name}”.` : `Activated “${key.name}”.`;
    });

  const showsLastUsed = keys?.some((k) => k.lastUsedAt !== undefined) ?? false;

  return (
    <>
      <div class="page-head">
        <PageHeading>{title}</PageHeading>
        <button type="button" class="primary" onClick={() => setDialog({ type: 'create' })}>
          Create key
        </button>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <p role="status" class="notice">
        {notice}
      </p>
      {keys === null && !error && <p>Loading…</p>}
      {keys && (
        <div class="table-wrap" role="region" aria-label={title} tabIndex={0}>
          <table>
            <caption class="visually-hidden">{title} of this account</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Prefix</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                {showsLastUsed && <th scope="col">Last used</th>}
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {keys.length === 0 && (
                <tr>
                  <td colSpan={showsLastUsed ? 7 : 6}>{empty}</td>
                </tr>
              )}
              {keys.map((key) => (
                <KeyRow
                  key={key.id}
                  apiKey={key}
                  showsLastUsed={showsLastUsed}
                  onToggle={() => void toggle(key)}
                  onOpen={(type) => setDialog({ type, key })}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}

      {dialog?.type === 'create' && (
        <CreateDialog
          noun={noun}
          onCancel={() => setDialog(null)}
          onCreate={async (name, expiresAt) => {
            const created = await api.createKey(kind, name, expiresAt);
            setDialog({ type: 'secret', created, reason: 'created' });
            setNotice(`Created “${created.name}” (${created.prefix}…).`);
            void load();
          }}
        />
      )}
      {dialog?.type === 'secret' && (
        // Dropping the dialog state drops the only reference to the full key.
        <SecretDialog created={dialog.created} reason={dialog.reason} onDone={() => setDialog(null)} />
      )}
      {dialog?.type === 'rename' && (
        <RenameDialog
          apiKey={dialog.key}
          onCancel={() => setDialog(null)}
          onRename={async (name) => {
            await api.updateKey(kind, dialog.key.id, { name });
            setDialog(null);
            await act(async () => `Renamed “${dialog.key.name}” to “${name}”.`);
          }}
        />
      )}
      {dialog?.type === 'expiry' && (
        <ExpiryDialog
          apiKey={dialog.key}
          onCancel={() => setDialog(null)}
          onSave={async (expiresAt) => {
            await api.updateKey(kind, dialog.key.id, { expires_at: expiresAt });
            setDialog(null);
            await act(async () => (expiresAt ? `“${dialog.key.name}” now expires ${formatDateTime(expiresAt)}.` : `“${dialog.key.name}” no longer expires.`));
          }}
        />
      )}
      {dialog?.type === 'rotate' && (
        <RotateDialog
          apiKey={dialog.key}
          onCancel={() => setDialog(null)}
          onRotate={async (seconds) => {
            const created = await api.rollKey(kind, dialog.key.id, seconds);
            setDialog({ type: 'secret', created, reason: 'rotated' });
            setNotice(`Rotated “${dialog.key.name}”: the new key's prefix is ${created.prefix}….`);
            void load();
          }}
        />
      )}
      {dialog?.type === 'delete' && (
        <DeleteDialog
          apiKey={dialog.key}
          noun={noun}
          onCancel={() => setDialog(null)}
          onDelete={async () => {
            await api.deleteKey(kind, dialog.key.id);
            setDialog(null);
            await act(async () => `Deleted “${dialog.key.name}” (${dialog.key.prefix}…).`);
          }}
        />
      )}
    </>
  );
}

interface KeyRowProps {
  apiKey: ApiKey;
  showsLastUsed: boolean;
  onToggle: () => void;
  onOpen: (type: 'rename' | 'expiry' | 'rotate' | 'delete') => void;
}

function KeyRow({ apiKey: key, showsLastUsed, onToggle, onOpen }: KeyRowProps) {
  const status = statusOf(key);
  const nameId = useId();
  const changeable = status === 'active' || status === 'inactive';
  return (
    <tr>
      <th scope="row" id={nameId}>
        {key.name}
      </th>
      <td>
        <code>{key.prefix}…</code>
      </td>
      <td>
        <span class={`badge badge-${status}`}>{status}</span>
        {status === 'revoked' && (
          <span class="sub">
            {formatDateTime(key.revokedAt)}
            {key.revokedReason ? `: ${key.revokedReason}` : ''}
            {key.revokedFoundAt ? ` (found ${formatDateTime(key.revokedFoundAt)})` : ''}
          </span>
        )}
      </td>
      <td>
        <DateCell iso={key.createdAt} />
      </td>
      <td>{key.expiresAt ? <DateCell iso={key.expiresAt} /> : 'never'}</td>
      {showsLastUsed && <td>{key.lastUsedAt ? <DateCell iso={key.lastUsedAt} /> : 'never'}</td>}
      <td class="actions">
        <button type="button" aria-describedby={nameId} onClick={() => onOpen('rename')}>
          Rename
        </button>
        {changeable && (
          <button type="button" aria-describedby={nameId} onClick={onToggle}>
            {key.active ? 'Deactivate' : 'Activate'}
          </button>
        )}
        {changeable && (
          <button type="button" aria-describedby={nameId} onClick={() => onOpen('expiry')}>
            Expiry
          </button>
        )}
        {changeable && (
          <button type="button" aria-describedby={nameId} onClick={() => onOpen('rotate')}>
            Rotate
          </button>
        )}
        <button type="button" class="danger" aria-describedby={nameId} onClick={() => onOpen('delete')}>
          Delete
        </button>
      </td>
    </tr>
  );
}

function DateCell({ iso }: { iso: string | null | undefined }) {
  return iso ? <time dateTime={iso}>{formatDateTime(iso)}</time> : <>—</>;
}

/** Runs a dialog's submit, keeping its refusal inside the dialog. */
function useSubmit() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(messageOf(e));
      setBusy(false);
    }
  };
  return { busy, error, setError, submit };
}

function DialogError({ error }: { error: string | null }) {
  return error ? (
    <p role="alert" class="error">
      {error}
    </p>
  ) : null;
}

const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

function CreateDialog({ noun, onCancel, onCreate }: { noun: string; onCancel: () => void; onCreate: (name: string, expiresAt: string | null) => Promise<void> }) {
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('');
  const { busy, error, setError, submit } = useSubmit();
  const nameId = useId();
  const expiryId = useId();
  const hintId = useId();
  return (
    <Dialog title={`Create ${noun}`} onClose={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const expiresAt = expiry ? fromLocalInput(expiry) : null;
          if (expiry && !expiresAt) return setError('The expiry is not a valid date and time.');
          void submit(() => onCreate(name.trim(), expiresAt));
        }}
      >
        <label for={nameId}>Name</label>
        <input id={nameId} value={name} required maxLength={100} autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
        <label for={expiryId}>Expires (optional)</label>
        <input id={expiryId} type="datetime-local" value={expiry} aria-describedby={hintId} onInput={(e) => setExpiry(e.currentTarget.value)} />
        <p class="hint" id={hintId}>
          In your time zone ({timeZone()}). Leave empty for a key that does not expire.
        </p>
        <DialogError error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function RenameDialog({ apiKey, onCancel, onRename }: { apiKey: ApiKey; onCancel: () => void; onRename: (name: string) => Promise<void> }) {
  const [name, setName] = useState(apiKey.name);
  const { busy, error, submit } = useSubmit();
  const nameId = useId();
  return (
    <Dialog title={`Rename “${apiKey.name}”`} onClose={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit(() => onRename(name.trim()));
        }}
      >
        <label for={nameId}>Name</label>
        <input id={nameId} value={name} required maxLength={100} autocomplete="off" onInput={(e) => setName(e.currentTarget.value)} />
        <DialogError error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ExpiryDialog({ apiKey, onCancel, onSave }: { apiKey: ApiKey; onCancel: () => void; onSave: (expiresAt: string | null) => Promise<void> }) {
  const [expiry, setExpiry] = useState(toLocalInput(apiKey.expiresAt));
  const { busy, error, setError, submit } = useSubmit();
  const expiryId = useId();
  const hintId = useId();
  return (
    <Dialog title={`Expiry of “${apiKey.name}”`} onClose={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const expiresAt = fromLocalInput(expiry);
          if (!expiresAt) return setError('Choose a date and time, or clear the expiry.');
          void submit(() => onSave(expiresAt));
        }}
      >
        <label for={expiryId}>Expires</label>
        <input id={expiryId} type="datetime-local" value={expiry} required aria-describedby={hintId} onInput={(e) => setExpiry(e.currentTarget.value)} />
        <p class="hint" id={hintId}>
          In your time zone ({timeZone()}). {apiKey.expiresAt ? `Now: ${formatDateTime(apiKey.expiresAt)}.` : 'It does not expire now.'}
        </p>
        <DialogError error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          {apiKey.expiresAt && (
            <button type="button" disabled={busy} onClick={() => void submit(() => onSave(null))}>
              Clear expiry
            </button>
          )}
          <button type="submit" class="primary" disabled={busy}>
            Save
          </button>
        </div>
      </form>
    </Dialog>
  );
}

const OVERLAPS: { seconds: number; label: string }[] = [
  { seconds: 0, label: 'No overlap: the old key stops working now' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '24 hours' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
];

function RotateDialog({ apiKey, onCancel, onRotate }: { apiKey: ApiKey; onCancel: () => void; onRotate: (seconds: number) => Promise<void> }) {
  const [seconds, setSeconds] = useState(86_400);
  const { busy, error, submit } = useSubmit();
  const overlapId = useId();
  const hintId = useId();
  return (
    <Dialog title={`Rotate “${apiKey.name}”`} onClose={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit(() => onRotate(seconds));
        }}
      >
        <p>
          A new key with the same name replaces <code>{apiKey.prefix}…</code>.
        </p>
        <label for={overlapId}>Old key keeps working for</label>
        <select id={overlapId} value={String(seconds)} aria-describedby={hintId} onChange={(e) => setSeconds(Number(e.currentTarget.value))}>
          {OVERLAPS.map((o) => (
            <option key={o.seconds} value={String(o.seconds)}>
              {o.label}
            </option>
          ))}
        </select>
        <p class="hint" id={hintId}>
          Never later than the old key's own expiry. Switch your clients to the new key within this time.
        </p>
        <DialogError error={error} />
        <div class="dialog-actions">
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="primary" disabled={busy}>
            Rotate
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function DeleteDialog({ apiKey, noun, onCancel, onDelete }: { apiKey: ApiKey; noun: string; onCancel: () => void; onDelete: () => Promise<void> }) {
  const { busy, error, submit } = useSubmit();
  return (
    <Dialog title={`Delete “${apiKey.name}”?`} onClose={onCancel}>
      <p>
        The {noun} <strong>{apiKey.name}</strong> (<code>{apiKey.prefix}…</code>) stops working at once, everywhere. This cannot be undone.
      </p>
      <DialogError error={error} />
      <div class="dialog-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => void submit(onDelete)}>
          Delete
        </button>
      </div>
    </Dialog>
  );
}
