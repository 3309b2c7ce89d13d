/**
 * i18next for the screen: the shared domain catalog (errors, suggestions, actions) plus the UI
 * strings, flat keys (`error.task_conflict`), `{{a.b}}` interpolation like formatMessage.
 */
import i18next, { type i18n } from 'i18next';
import { messagesEn, messagesZh, type Locale } from '../../src-shared/domain/i18n.js';
import type { DomainError } from '../../src-shared/domain/errors.js';
import { uiEn, uiZh } from './ui.js';

/** i18next with the shared domain catalog, the screens' strings and `extra` (a screen's own). */
export function createI18n(locale: Locale, extra: Record<Locale, Record<string, string>> = { en: {}, zh: {} }): i18n {
  const instance = i18next.createInstance();
  void instance.init({
    lng: locale,
    fallbackLng: 'en',
    initAsync: false,
    keySeparator: false,
    nsSeparator: false,
    returnNull: false,
    interpolation: { escapeValue: false },
    missingInterpolationHandler: () => '?',
    resources: {
      en: { translation: { ...messagesEn, ...uiEn, ...extra.en } },
      zh: { translation: { ...messagesZh, ...uiZh, ...extra.zh } },
    },
  });
  return instance;
}

export interface ErrorText {
  message: string;
  suggestion: string;
  action: string;
}

/** A DomainError in the screen's language: the message, what to do, and the button text. */
export function errorText(t: i18n['t'], error: Pick<DomainError, 'code' | 'details'>): ErrorText {
  const params = error.details as Record<string, unknown>;
  // ERR-3: about another person (targetName), the `.target` wording comes first where there is one;
  // a refusal with a known reason (a wrong PIN) has its own wording too (as formatMessage).
  const variant =
    typeof params.targetName === 'string' ? 'target' : typeof params.reason === 'string' && /^[a-z_]{1,40}$/.test(params.reason) ? params.reason : null;
  const own = (prefix: string) => (variant ? [`${prefix}.${error.code}.${variant}`, `${prefix}.${error.code}`] : [`${prefix}.${error.code}`]);
  return {
    message: t(own('error'), params),
    suggestion: t([...own('suggestion'), 'suggestion.default'], params),
    action: t([...own('action'), 'action.default'], params),
  };
}
