import { useId, useRef, useState } from 'preact/hooks';
import type { CreatedKey } from './api.ts';
import { Dialog } from './dialog.tsx';

interface SecretDialogProps {
  created: CreatedKey;
  /** What happened: a new key, or the new key of a rotation. */
  reason: 'created' | 'rotated';
  onDone: () => void;
}

/**
 * Shows a full key once. The value lives only in this component's props: after Done the parent drops them, so only
 * the prefix remains anywhere in the page, and nothing is written to any storage.
 */
export function SecretDialog({ created, reason, onDone }: SecretDialogProps) {
  const [copyState, setCopyState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const codeRef = useRef<HTMLElement>(null);
  const labelId = useId();

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(created.key);
      setCopyState('copied');
    } catch {
      // No clipboard access (an insecure origin, or permission refused): select the text for Ctrl+C instead.
      const code = codeRef.current;
      const selection = window.getSelection();
      if (code && selection) {
        const range = document.createRange();
        range.selectNodeContents(code);
        selection.removeAllRanges();
        selection.addRange(range);
      }
      setCopyState('failed');
    }
  };

  return (
    <Dialog title={reason === 'created' ? 'Your new key' : 'Your rotated key'} onClose={onDone} closeOnEscape={false}>
      <p>
        {reason === 'created' ? 'The key' : 'The new key for'} <strong>{created.name}</strong>{' '}
        {reason === 'created' ? 'has been created.' : 'is ready. The old key keeps working for the overlap you chose.'}
      </p>
      <p class="warning">
        <strong>Copy it now: it will not be shown again.</strong> Only its prefix is kept.
      </p>
      <div role="group" aria-labelledby={labelId} class="secret-field">
        <span id={labelId} class="secret-label">
          Key
        </span>
        <code class="secret" ref={codeRef} data-secret="">
          {created.key}
        </code>
      </div>
      <p role="status" class="copy-status">
        {copyState === 'copied' ? 'Copied to the clipboard.' : copyState === 'failed' ? 'Could not reach the clipboard: the key is selected, press Ctrl+C to copy it.' : ''}
      </p>
      <div class="dialog-actions">
        <button type="button" onClick={copy}>
          Copy
        </button>
        <button type="button" class="primary" onClick={onDone}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
