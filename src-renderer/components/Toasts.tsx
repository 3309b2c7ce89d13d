/** Short confirmations and arriving notifications, above the bottom edge (KIO-4, NTF-1). */
import { useTranslation } from 'react-i18next';
import { errorText } from '../i18n/index.js';
import { useStores, useToasts } from '../stores/hooks.js';

export function Toasts() {
  const { t, i18n } = useTranslation();
  const toasts = useStores().toasts;
  const items = useToasts((s) => s.items);
  if (items.length === 0) return null;
  return (
    <div className="toasts" role="status" aria-live="polite" data-testid="toasts">
      {items.map((item) => (
        <button
          key={item.id}
          type="button"
          className={`toast toast-${item.tone}`}
          data-testid="toast"
          data-key={item.key ?? item.error?.code}
          onClick={() => toasts.getState().dismiss(item.id)}
        >
          {item.error ? errorText(i18n.t.bind(i18n), item.error).message : t(item.key ?? '', item.params)}
        </button>
      ))}
    </div>
  );
}
