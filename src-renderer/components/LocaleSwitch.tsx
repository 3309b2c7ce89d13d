/** English / 中文. */
import { useTranslation } from 'react-i18next';
import { LOCALES } from '../../src-shared/domain/i18n.js';
import { useStores, useTerminal } from '../stores/hooks.js';

export function LocaleSwitch() {
  const { t } = useTranslation();
  const locale = useTerminal((s) => s.locale);
  const setLocale = useStores().terminal.getState().setLocale;
  return (
    <div className="locale" role="group" aria-label={t('locale.label')}>
      {LOCALES.map((l) => (
        <button
          key={l}
          type="button"
          className={l === locale ? 'btn btn-small btn-toggle is-on' : 'btn btn-small btn-toggle'}
          aria-pressed={l === locale}
          data-testid={`locale-${l}`}
          onClick={() => void setLocale(l)}
        >
          {t(`locale.${l}`)}
        </button>
      ))}
    </div>
  );
}
