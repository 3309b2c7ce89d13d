/** An operator's active tasks against their limit, as a bar with the numbers written out. */
import { useTranslation } from 'react-i18next';

export function LoadBar({ count, limit }: { count: number; limit: number }) {
  const { t } = useTranslation();
  const share = limit > 0 ? Math.min(1, count / limit) : 1;
  const level = share >= 1 ? 'full' : share >= 0.8 ? 'high' : 'ok';
  return (
    <span className={`sv-load sv-load-${level}`} role="meter" aria-valuemin={0} aria-valuemax={limit} aria-valuenow={count} aria-label={t('sv.people.load')} data-count={count} data-limit={limit}>
      <span className="sv-load-track">
        <span className="sv-load-fill" style={{ width: `${Math.round(share * 100)}%` }} />
      </span>
      <span className="sv-load-text">
        {count}/{limit}
        {level === 'full' && ` ${t('sv.people.full')}`}
      </span>
    </span>
  );
}
