import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';

interface DialogProps {
  title: string;
  /** Escape and the Cancel buttons call this; for the one-time key dialog Escape is ignored (only Done closes it). */
  onClose: () => void;
  closeOnEscape?: boolean;
  children: ComponentChildren;
}

/**
 * A modal <dialog> (implicit role "dialog", aria-modal by showModal) titled by its heading through aria-labelledby.
 * The browser traps focus inside and moves it to the first control; closing gives focus back to the control that
 * opened it, or to the page heading when that control is gone.
 */
export function Dialog({ title, onClose, closeOnEscape = true, children }: DialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return undefined;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    return () => {
      if (dialog.open) dialog.close();
      const target = opener && opener.isConnected ? opener : document.querySelector<HTMLElement>('main h1');
      target?.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (closeOnEscape) onCloseRef.current();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>
  );
}
