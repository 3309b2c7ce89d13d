/** English / 中文 */
import { useTranslation } from 'react-i18next';
import { LOCALES } from '../../../src-shared/domain/i18n.js';
import { useApp, useUi } from '../stores/hooks.js';

export function LocaleSwitch() {
  const { t } = useTranslation();
  const ui = useApp().ui;
  const locale = useUi((s) => s.locale);
  return (
    <div className="sv-locale" role="group" aria-label={t('sv.locale.label')}>
      {LOCALES.map((l) => (
        <button
          key={l}
          type="button"
          className={`sv-btn sv-btn-small${l === locale ? ' sv-btn-on' : ''}`}
          aria-pressed={l === locale}
          data-testid={`sv-locale-${l}`}
          onClick={() => ui.getState().setLocale(l)}
        >
          {t(`locale.${l}`)}
        </button>
      ))}
    </div>
  );
}
