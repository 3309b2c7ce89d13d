/** SUP-4: every exception of the scope: open ones by default, or the whole last day; by kind. */
import { useTranslation } from 'react-i18next';
import { EXCEPTION_KINDS } from '../../../src-shared/domain/rules.js';
import { exceptionList } from '../selectors.js';
import { useApp, useBoard, useView } from '../stores/hooks.js';
import { ExceptionItem } from './ExceptionItem.js';

export function ExceptionsView() {
  const { t } = useTranslation();
  const app = useApp();
  useBoard((s) => s.version);
  const filter = useView((s) => s.exceptions);
  const list = exceptionList(app.board.getState(), filter);
  return (
    <section className="sv-page" aria-labelledby="sv-exceptions-title">
      <div className="sv-toolbar">
        <h2 id="sv-exceptions-title">
          {t('sv.view.exceptions')} <span className="sv-count">{list.length}</span>
        </h2>
        <label className="sv-inline">
          <span>{t('sv.exceptions.kind')}</span>
          <select
            className="sv-select"
            value={filter.kind ?? ''}
            data-testid="sv-exceptions-kind"
            onChange={(e) => app.view.getState().setExceptions({ kind: (e.target.value || undefined) as typeof filter.kind })}
          >
            <option value="">{t('sv.any')}</option>
            {EXCEPTION_KINDS.map((k) => (
              <option key={k} value={k}>
                {t(`sv.exception.kind.${k}`)}
              </option>
            ))}
          </select>
        </label>
        <label className="sv-inline">
          <input type="checkbox" checked={filter.all} data-testid="sv-exceptions-all" onChange={(e) => app.view.getState().setExceptions({ all: e.target.checked })} />
          <span>{t('sv.exceptions.includeHandled')}</span>
        </label>
      </div>
      {list.length === 0 ? (
        <p className="sv-muted">{t('sv.feed.empty')}</p>
      ) : (
        <ul className="sv-exceptions sv-exceptions-page">
          {list.map((e) => (
            <ExceptionItem key={e.id} exception={e} />
          ))}
        </ul>
      )}
    </section>
  );
}
