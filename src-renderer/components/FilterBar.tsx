/**
 * Find work fast (LIST-2, KIO-3): a search field (the on-screen keyboard opens from it; a scanner
 * burst into it is a scan, Enter on typed text looks the code up) and filter buttons with their
 * counts: all, high priority, overdue, each step, and the work order a scan chose.
 */
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { WedgeDetector, withoutScan } from '../badge/wedge.js';
import { useScan, useStores, useTasks } from '../stores/hooks.js';
import { stepChips } from '../stores/tasks.js';
import { OnScreenKeyboard } from './OnScreenKeyboard.js';

/** Search as the operator types, a moment after the last key. */
const SEARCH_DELAY_MS = 250;

export const SEARCH_INPUT_ID = 'task-search';

export function FilterBar({ typed }: { typed: string | null }) {
  const { t } = useTranslation();
  const stores = useStores();
  const filters = useTasks((s) => s.filters);
  const facets = useTasks((s) => s.facets);
  const total = useTasks((s) => s.total);
  const scanning = useScan((s) => s.busy);
  const [text, setText] = useState(filters.search ?? '');
  const [keyboard, setKeyboard] = useState(false);
  const wedge = useRef(new WedgeDetector());
  const input = useRef<HTMLInputElement>(null);

  // Characters typed with no field focused arrive here (manual entry).
  useEffect(() => {
    if (typed) {
      setText((v) => v + typed);
      input.current?.focus();
    }
  }, [typed]);
  // The store's search changes from elsewhere (cleared filters): follow it.
  useEffect(() => {
    setText(filters.search ?? '');
  }, [filters.search]);
  useEffect(() => {
    if (text === (filters.search ?? '')) return;
    const timer = setTimeout(() => stores.tasks.getState().setFilters({ search: text }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, filters.search, stores.tasks]);

  /** `scanned`: a scanner's burst (maybe after text already in the field), else the field's text, typed. */
  const enter = (scanned: string | null) => {
    const method = scanned !== null ? 'scan' : 'manual';
    const code = (scanned ?? text).trim();
    wedge.current.reset();
    if (!code) return;
    // A scan is no search: the field keeps what was there before the burst.
    if (scanned !== null) setText(withoutScan(text, scanned));
    void stores.scan
      .getState()
      .scan(code, method)
      .then((r) => {
        // A typed code that named a task or work order has done its job; anything else stays a search.
        if (method === 'manual' && r && (r.kind === 'task' || r.kind === 'workOrder')) setText('');
      });
  };
  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (!wedge.current.keyDown(e, text)) return;
    e.preventDefault();
    enter(wedge.current.scanned(e.timeStamp));
  };
  const toggle = (patch: Parameters<ReturnType<typeof stores.tasks.getState>['setFilters']>[0]) => stores.tasks.getState().setFilters(patch);
  const anyFilter = Object.keys(filters).length > 0;

  return (
    <div className="filterbar" data-testid="filterbar">
      <div className="search">
        <svg className="search-icon" viewBox="0 0 24 24" aria-hidden="true">
          <circle cx="10" cy="10" r="7" fill="none" stroke="currentColor" strokeWidth="2.5" />
          <path d="M15.5 15.5 21 21" stroke="currentColor" strokeWidth="2.5" strokeLinecap="round" />
        </svg>
        <input
          id={SEARCH_INPUT_ID}
          ref={input}
          className="input search-input"
          aria-label={t('filter.search')}
          placeholder={t('filter.searchPlaceholder')}
          value={text}
          inputMode="none"
          autoComplete="off"
          spellCheck={false}
          data-testid="search-input"
          onChange={(e) => setText(e.target.value)}
          onPaste={() => wedge.current.edited()}
          onKeyDown={onKeyDown}
          onPointerDown={() => setKeyboard(true)}
        />
        <button
          type="button"
          className={keyboard ? 'btn btn-key is-on' : 'btn btn-key'}
          aria-pressed={keyboard}
          aria-label={keyboard ? t('keyboard.hide') : t('reject.keyboard')}
          data-testid="search-keyboard"
          onClick={() => setKeyboard((k) => !k)}
        >
          ⌨
        </button>
      </div>
      <div className="chips" role="group" aria-label={t('filter.search')}>
        <button type="button" className={!anyFilter ? 'chip-btn is-on' : 'chip-btn'} data-testid="filter-all" onClick={() => stores.tasks.getState().clearFilters()}>
          {t('filter.all', { count: facets?.all ?? 0 })}
        </button>
        {filters.workOrder && (
          <button type="button" className="chip-btn is-on" data-testid="filter-work-order" onClick={() => toggle({ workOrder: undefined })}>
            {t('filter.workOrder', { number: filters.workOrder })} ✕
          </button>
        )}
        <button
          type="button"
          className={filters.highPriority ? 'chip-btn is-on' : 'chip-btn'}
          aria-pressed={Boolean(filters.highPriority)}
          data-testid="filter-high"
          onClick={() => toggle({ highPriority: !filters.highPriority })}
        >
          {t('filter.highPriority', { count: facets?.highPriority ?? 0 })}
        </button>
        <button
          type="button"
          className={filters.overdue ? 'chip-btn is-on chip-overdue' : 'chip-btn chip-overdue'}
          aria-pressed={Boolean(filters.overdue)}
          data-testid="filter-overdue"
          onClick={() => toggle({ overdue: !filters.overdue })}
        >
          {t('filter.overdue', { count: facets?.overdue ?? 0 })}
        </button>
        {stepChips(facets?.steps ?? [], filters.step).map((s) => (
          <button
            key={s.step}
            type="button"
            className={filters.step === s.step ? 'chip-btn is-on' : 'chip-btn'}
            aria-pressed={filters.step === s.step}
            data-testid={`filter-step-${s.step}`}
            onClick={() => toggle({ step: filters.step === s.step ? undefined : s.step })}
          >
            {s.step} ({s.count})
          </button>
        ))}
        {anyFilter && total !== null && (
          <span className="chips-note" data-testid="filter-showing">
            {t('filter.showing', { count: total })}
          </span>
        )}
      </div>
      {keyboard && (
        <div className="osk-dock">
          <OnScreenKeyboard
            value={text}
            onChange={setText}
            onEnter={() => {
              enter(null);
              setKeyboard(false);
            }}
            testId="search-osk"
          />
          {scanning && <span className="muted">…</span>}
        </div>
      )}
    </div>
  );
}
