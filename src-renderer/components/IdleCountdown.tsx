/** The last seconds before the automatic sign-out, and a button to stay. */
import { useTranslation } from 'react-i18next';
import { secondsLeft, warningSeconds } from '../stores/idle.js';
import { useIdle, useStores, useTerminal } from '../stores/hooks.js';

export function IdleCountdown() {
  const { t } = useTranslation();
  const idle = useStores().idle;
  const timeout = useTerminal((s) => s.idleTimeoutSeconds);
  const left = useIdle((s) => secondsLeft(s, timeout));
  if (left === null || left > warningSeconds(timeout)) return null;
  return (
    <div className="idle" role="status" data-testid="idle-countdown" data-seconds={left}>
      <span className="idle-text">{t('idle.warning', { seconds: left })}</span>
      <button type="button" className="btn btn-primary" data-testid="idle-stay" onClick={() => idle.getState().activity()}>
        {t('idle.stay')}
      </button>
    </div>
  );
}
