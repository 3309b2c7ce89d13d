/**
 * A large on-screen PIN pad for badges that need a PIN (the core asked for one). Another badge
 * scanned meanwhile signs in instead (or opens the pad for that one).
 */
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { catchScans } from '../badge/scanner.js';
import { useSession, useStores } from '../stores/hooks.js';
import { ErrorNotice } from './ErrorNotice.js';
import { MAX_PIN_DIGITS, MIN_PIN_DIGITS } from '../../src-shared/domain/credentials.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

export function PinPad() {
  const { t } = useTranslation();
  const session = useStores().session;
  const userName = useSession((s) => s.pin?.userName ?? null);
  const busy = useSession((s) => s.busy);
  const error = useSession((s) => s.error);
  const [pin, setPin] = useState('');
  // A badge scanned while the pad waits (its owner walked away): the pad gives way to that badge.
  useEffect(() => {
    const catcher = catchScans(window, { onScan: (badge) => void session.getState().signIn(badge, 'badge'), onTyped: () => undefined });
    return () => catcher.stop();
  }, [session]);
  const press = (d: string) => setPin((p) => (p.length < MAX_PIN_DIGITS ? p + d : p));
  const submit = () => {
    void session.getState().submitPin(pin);
    setPin('');
  };
  return (
    <div className="panel pinpad" data-testid="pin-pad">
      <h1>{t('pin.title')}</h1>
      {userName && <p className="lead">{t('pin.for', { name: userName })}</p>}
      <div className={pin.length > 8 ? 'pin-display pin-display-long' : 'pin-display'} data-testid="pin-display" aria-live="polite">
        {pin.length ? '●'.repeat(pin.length) : ' '}
      </div>
      <ErrorNotice error={error} testId="pin-error" />
      <div className="pin-keys">
        {KEYS.map((d) => (
          <button key={d} type="button" className="btn pin-key" data-testid={`pin-key-${d}`} onClick={() => press(d)}>
            {d}
          </button>
        ))}
        <button type="button" className="btn pin-key pin-key-small" data-testid="pin-clear" onClick={() => setPin('')}>
          {t('pin.clear')}
        </button>
        <button type="button" className="btn pin-key" data-testid="pin-key-0" onClick={() => press('0')}>
          0
        </button>
        <button type="button" className="btn pin-key pin-key-small" data-testid="pin-backspace" onClick={() => setPin((p) => p.slice(0, -1))}>
          {t('pin.backspace')}
        </button>
      </div>
      <div className="row">
        <button type="button" className="btn btn-ghost btn-large" data-testid="pin-cancel" onClick={() => session.getState().cancelPin()}>
          {t('pin.cancel')}
        </button>
        <button type="button" className="btn btn-primary btn-large" data-testid="pin-ok" disabled={busy || pin.length < MIN_PIN_DIGITS} onClick={submit}>
          {t('pin.ok')}
        </button>
      </div>
    </div>
  );
}
