/** The floor at a glance: the summary per department, the shift's charts, and the live exceptions feed. */
import { useTranslation } from 'react-i18next';
import { exceptionList } from '../selectors.js';
import { useApp, useBoard } from '../stores/hooks.js';
import { Charts } from './Charts.js';
import { ExceptionItem } from './ExceptionItem.js';
import { FloorSummary } from './FloorSummary.js';

const FEED_LENGTH = 30;

export function Overview() {
  const { t } = useTranslation();
  const app = useApp();
  useBoard((s) => s.version);
  const open = exceptionList(app.board.getState(), { all: false });
  return (
    <div className="sv-overview">
      <FloorSummary />
      <div className="sv-overview-lower">
        <Charts />
        <section className="sv-card sv-feed" aria-labelledby="sv-feed-title" data-testid="sv-feed">
          <div className="sv-card-head">
            <h2 id="sv-feed-title">
              {t('sv.feed.title')} <span className="sv-count" data-testid="sv-feed-count">{open.length}</span>
            </h2>
            <button type="button" className="sv-btn sv-btn-small sv-btn-ghost" onClick={() => app.view.getState().go('exceptions')}>
              {t('sv.feed.all')}
            </button>
          </div>
          {open.length === 0 ? (
            <p className="sv-muted">{t('sv.feed.empty')}</p>
          ) : (
            <ul className="sv-exceptions">
              {open.slice(0, FEED_LENGTH).map((e) => (
                <ExceptionItem key={e.id} exception={e} />
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
