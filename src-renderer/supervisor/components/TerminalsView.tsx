/**
 * SUP-3: the terminals of the scope: online or offline (since when), who is signed in, app
 * version, clock offset, and the work waiting in each one's outbox, so a kiosk that has been
 * offline with queued claims stands out.
 */
import { useTranslation } from 'react-i18next';
import { compareNames, formatDuration, formatWhen } from '../format.js';
import { useApp, useBoard, useUi } from '../stores/hooks.js';
import { Empty } from './Empty.js';

export function TerminalsView() {
  const { t } = useTranslation();
  const app = useApp();
  useBoard((s) => s.version);
  const tz = useBoard((s) => s.supervision.timeZone);
  const now = useUi((s) => s.now);
  const locale = useUi((s) => s.locale);
  const board = app.board.getState();
  const terminals = [...board.terminals.values()].sort(
    (a, b) => Number((b.outbox ?? 0) > 0 && !b.connected) - Number((a.outbox ?? 0) > 0 && !a.connected) || compareNames(a.name, b.name, locale),
  );
  return (
    <section className="sv-page" aria-labelledby="sv-terminals-title">
      <div className="sv-toolbar">
        <h2 id="sv-terminals-title">
          {t('sv.view.terminals')} <span className="sv-count">{terminals.length}</span>
        </h2>
      </div>
      <div className="sv-scroll">
        <table className="sv-table sv-sticky" data-testid="sv-terminals">
          <thead>
            <tr>
              <th scope="col">{t('sv.terminals.name')}</th>
              <th scope="col">{t('sv.terminals.link')}</th>
              <th scope="col">{t('sv.terminals.operator')}</th>
              <th scope="col" className="sv-num">
                {t('sv.terminals.outbox')}
              </th>
              <th scope="col">{t('sv.terminals.version')}</th>
              <th scope="col" className="sv-num">
                {t('sv.terminals.clock')}
              </th>
              <th scope="col">{t('sv.people.departments')}</th>
            </tr>
          </thead>
          <tbody>
            {terminals.map((x) => {
              const queued = x.outbox ?? 0;
              const worry = !x.connected && queued > 0;
              return (
                <tr key={x.id} className={worry ? 'sv-attention-row' : undefined} data-testid={`sv-terminal-${x.id}`} data-connected={x.connected} data-outbox={x.outbox ?? ''}>
                  <th scope="row">
                    {x.name} <span className="sv-muted sv-mono">{x.id}</span>
                    {!x.active && <span className="sv-tag"> {t('sv.terminals.disabled')}</span>}
                  </th>
                  <td>
                    {x.connected ? (
                      <span className="sv-online">
                        <span aria-hidden="true">●</span> {t('sv.terminals.online', { since: x.connectedAt ? formatWhen(x.connectedAt, now, tz, locale) : '—' })}
                      </span>
                    ) : (
                      <span className="sv-offline">
                        <span aria-hidden="true">○</span>{' '}
                        {x.disconnectedAt || x.lastSeenAt
                          ? t('sv.terminals.offlineSince', { since: formatWhen((x.disconnectedAt ?? x.lastSeenAt)!, now, tz, locale) })
                          : t('sv.terminals.never')}
                      </span>
                    )}
                  </td>
                  <td>{x.signedInUserId ? (board.people.get(x.signedInUserId)?.displayName ?? x.signedInUserId) : <span className="sv-muted">—</span>}</td>
                  <td className={`sv-num${worry ? ' sv-attention' : ''}`} data-testid={`sv-terminal-outbox-${x.id}`}>
                    {x.outbox === null ? '—' : worry ? `⚠ ${t('sv.terminals.queued', { count: queued })}` : queued}
                  </td>
                  <td className="sv-mono">{x.appVersion ?? '—'}</td>
                  <td className="sv-num">{x.clockOffsetMs === null ? '—' : `${x.clockOffsetMs >= 0 ? '+' : '−'}${formatDuration(Math.abs(x.clockOffsetMs), locale)}`}</td>
                  <td>{x.departments.map((d) => board.departments.get(d)?.name ?? d).join(', ')}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {terminals.length === 0 && <Empty testId="sv-terminals-none">{t('sv.terminals.none')}</Empty>}
      </div>
    </section>
  );
}
