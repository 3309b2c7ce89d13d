/** Toasts, newest last, each dismissable; errors show the server's message and suggestion. */
import { useTranslation } from 'react-i18next';
import { errorText } from '../../i18n/index.js';
import { useApp, useToasts } from '../stores/hooks.js';

export function Toasts() {
  const { t, i18n } = useTranslation();
  const toasts = useApp().toasts;
  const items = useToasts((s) => s.items);
  return (
    <div className="sv-toasts" aria-live="polite" data-testid="sv-toasts">
      {items.map((toast) => {
        const e = toast.error ? errorText(i18n.t.bind(i18n), toast.error) : null;
        return (
          <div key={toast.id} className={`sv-toast sv-toast-${toast.tone}`} role={toast.tone === 'error' ? 'alert' : 'status'} data-testid="sv-toast" data-tone={toast.tone}>
            <div className="sv-toast-text">
              {e ? (
                <>
                  <strong>{e.message}</strong>
                  <span>{e.suggestion}</span>
                </>
              ) : (
                <span>{t(toast.key ?? '', toast.params)}</span>
              )}
            </div>
            <button type="button" className="sv-btn sv-btn-ghost sv-btn-small" aria-label={t('sv.dismiss')} onClick={() => toasts.getState().dismiss(toast.id)}>
              ✕
            </button>
          </div>
        );
      })}
    </div>
  );
}
