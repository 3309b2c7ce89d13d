/**
 * IMP-1..4 from the overview: choose a CSV (or JSON) file of work orders and tasks; the upload
 * shows its progress; the answer is what was created and updated, or every bad row with its
 * field and message, in which case nothing was imported (with, past the 1,000 the server lists,
 * how many problems there are in all).
 */
import { useTranslation } from 'react-i18next';
import { errorText } from '../../i18n/index.js';
import { useApp, useImport, useUi } from '../stores/hooks.js';

export function ImportView() {
  const { t, i18n } = useTranslation();
  const app = useApp();
  const s = useImport((x) => x);
  const refusal = s.error ? errorText(i18n.t.bind(i18n), s.error) : null;
  const locale = useUi((x) => x.locale);
  const number = (n: number) => n.toLocaleString(locale === 'zh' ? 'zh-CN' : 'en');
  return (
    <section className="sv-page sv-import" aria-labelledby="sv-import-title">
      <h2 id="sv-import-title">{t('sv.view.import')}</h2>
      <p className="sv-muted">{t('sv.import.intro')}</p>
      <label className="sv-field">
        <span>{t('sv.import.file')}</span>
        <input
          type="file"
          accept=".csv,text/csv,.json,application/json"
          data-testid="sv-import-file"
          disabled={s.busy}
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void app.importer.getState().upload(file);
            e.target.value = '';
          }}
        />
      </label>
      {s.progress !== null && (
        <div className="sv-progress" data-testid="sv-import-progress">
          <progress max={1} value={s.progress} aria-label={t('sv.import.progress', { file: s.fileName })} />
          <span>
            {s.busy ? t('sv.import.uploading', { file: s.fileName, percent: Math.round(s.progress * 100) }) : t('sv.import.uploaded', { file: s.fileName })}
          </span>
        </div>
      )}
      {s.result && (
        <p className="sv-ok" role="status" data-testid="sv-import-done">
          ✓ {t('sv.import.done', s.result)}
        </p>
      )}
      {refusal && (
        <div className="sv-error" role="alert" data-testid="sv-import-error" data-code={s.error!.code}>
          <strong>{refusal.message}</strong>
          <span>{refusal.suggestion}</span>
        </div>
      )}
      {s.errorCount > s.rowErrors.length && (
        <p className="sv-warn-box" role="status" data-testid="sv-import-partial">
          {t('sv.import.partial', { shown: number(s.rowErrors.length), count: number(s.errorCount) })}
        </p>
      )}
      {s.rowErrors.length > 0 && (
        <table className="sv-table sv-compact" data-testid="sv-import-rows">
          <thead>
            <tr>
              <th scope="col">{t('sv.import.row')}</th>
              <th scope="col">{t('sv.import.field')}</th>
              <th scope="col">{t('sv.import.problem')}</th>
            </tr>
          </thead>
          <tbody>
            {s.rowErrors.map((r, i) => (
              <tr key={i} data-testid={`sv-import-row-${r.row}`}>
                <td className="sv-num">{r.row}</td>
                <td className="sv-mono">{r.field}</td>
                <td>{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
