/** A refused operation's message in the screen's language, with what to do about it. */
import { useTranslation } from 'react-i18next';
import type { DomainError } from '../../src-shared/domain/errors.js';
import { errorText } from '../i18n/index.js';

export function ErrorNotice({ error, onDismiss, testId = 'error' }: { error: DomainError | null; onDismiss?: () => void; testId?: string }) {
  const { t, i18n } = useTranslation();
  if (!error) return null;
  const text = errorText(i18n.t.bind(i18n), error);
  return (
    <div className="notice notice-error" role="alert" data-testid={testId} data-code={error.code}>
      <div className="notice-body">
        <p className="notice-message">{text.message}</p>
        <p className="notice-suggestion">{text.suggestion}</p>
      </div>
      {onDismiss && (
        <button type="button" className="btn btn-ghost" onClick={onDismiss} data-testid={`${testId}-dismiss`}>
          {t('error.dismiss')}
        </button>
      )}
    </div>
  );
}
