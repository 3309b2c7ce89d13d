/**
 * Importing work orders and tasks from a CSV file (IMP-1..4): the upload's progress, then either
 * what was created and updated or every bad row with its field and message (nothing is imported
 * then: all or nothing).
 */
import { createStore } from 'zustand/vanilla';
import { DomainError } from '../../../src-shared/domain/errors.js';
import { toDomainError } from '../../api/errors.js';
import type { Http } from '../api/http.js';

export interface ImportRowError {
  row: number;
  field: string;
  message: string;
}

export interface ImportState {
  fileName: string | null;
  /** 0..1 while uploading. */
  progress: number | null;
  result: { rows: number; created: number; updated: number; workOrders: number } | null;
  rowErrors: ImportRowError[];
  /** IMP-2: how many problems the file has in all (the server lists at most 1,000 of them). */
  errorCount: number;
  error: DomainError | null;
  busy: boolean;
  upload(file: File): Promise<void>;
  reset(): void;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isUtf8(bytes: ArrayBuffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The server refuses files above this (API-4); checked first so a big file fails at once. */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

export function createImportStore(http: Http) {
  /** Numbers the uploads: a reset (a new file, signed out) makes an earlier one's answer not shown. */
  let asked = 0;
  return createStore<ImportState>()((set) => ({
    fileName: null,
    progress: null,
    result: null,
    rowErrors: [],
    errorCount: 0,
    error: null,
    busy: false,
    async upload(file) {
      const mine = ++asked;
      const mineSet = (patch: Partial<ImportState>) => {
        if (mine === asked) set(patch);
      };
      set({ fileName: file.name, progress: 0, result: null, rowErrors: [], errorCount: 0, error: null, busy: true });
      try {
        if (file.size > MAX_IMPORT_BYTES) throw new DomainError('payload_too_large', { limitBytes: MAX_IMPORT_BYTES });
        // SEC-7: the server takes UTF-8 only. Excel's plain CSV on a Chinese Windows is GBK: say so
        // here, in the page's language, with how to save it, before anything is sent.
        if (!isUtf8(await file.arrayBuffer())) throw new DomainError('invalid_input', { field: 'file', reason: 'encoding', file: file.name });
        const type = file.name.toLowerCase().endsWith('.json') ? 'application/json' : 'text/csv';
        const result = await http.upload<ImportState['result']>('/api/tasks/import', file, type, (p) =>
          mineSet({ progress: p.total > 0 ? Math.min(1, p.loaded / p.total) : null }),
        );
        mineSet({ result, busy: false, progress: 1 });
      } catch (e) {
        const error = toDomainError(e);
        const rows = (error.details.errors as ImportRowError[] | undefined) ?? [];
        const count = typeof error.details.errorCount === 'number' ? Math.max(error.details.errorCount, rows.length) : rows.length;
        mineSet({ error, rowErrors: rows, errorCount: count, busy: false, progress: null });
      }
    },
    reset: () => {
      asked++;
      set({ fileName: null, progress: null, result: null, rowErrors: [], errorCount: 0, error: null, busy: false });
    },
  }));
}

export type ImportStore = ReturnType<typeof createImportStore>;
