/**
 * The supervisors' overview (served by the sync server at /supervisor/, or opened by the desktop
 * app's supervisor mode): i18n, the stores around the HTTP API and the live subscription, the URL
 * as the view's state, and the keyboard shortcuts.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { parseLocale, type Locale } from '../../src-shared/domain/i18n.js';
import { feedUrl, type FeedSocket } from './api/feed.js';
import { App } from './components/App.js';
import { createSupervisorI18n } from './i18n.js';
import { handleShortcut } from './shortcuts.js';
import { createSupervisorApp } from './stores/app.js';
import { AppContext } from './stores/hooks.js';
import '../fonts.css';
import './styles.css';

const LOCALE_KEY = 'shopfloor.supervisor.locale';
const saved = window.localStorage.getItem(LOCALE_KEY);
const locale: Locale = saved === 'en' || saved === 'zh' ? saved : parseLocale(navigator.language);
const i18n = createSupervisorI18n(locale);
const setDocumentLocale = (l: Locale) => {
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
};
setDocumentLocale(locale);

const app = createSupervisorApp({
  feedUrl: feedUrl(window.location),
  openSocket: (url) => new WebSocket(url) as unknown as FeedSocket,
  search: window.location.search,
  writeSearch(search, push) {
    const url = `${window.location.pathname}${search}`;
    if (push) window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
  },
  locale,
  onLocale(l) {
    window.localStorage.setItem(LOCALE_KEY, l);
    void i18n.changeLanguage(l);
    setDocumentLocale(l);
  },
});
window.addEventListener('popstate', () => app.view.getState().load(window.location.search));
window.addEventListener('keydown', (e) => {
  if (handleShortcut(app, e, document)) e.preventDefault();
});
void app.session.getState().check();

const root = document.getElementById('root');
if (!root) throw new Error('supervisor.html has no #root');
createRoot(root).render(
  <StrictMode>
    <I18nextProvider i18n={i18n}>
      <AppContext.Provider value={app}>
        <App />
      </AppContext.Provider>
    </I18nextProvider>
  </StrictMode>,
);
