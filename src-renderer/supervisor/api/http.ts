/**
 * The overview's HTTP client: JSON requests to this server's API with the session cookie (the page
 * never sees the token, AUTH-8), in the page's language. A refusal becomes a DomainError rebuilt
 * from the server's error body, so components show the same message the server sent; a 401 also
 * tells the session store that the session ended.
 */
import { DomainError, fromErrorData } from '../../../src-shared/domain/errors.js';
import type { Locale } from '../../../src-shared/domain/i18n.js';

export interface HttpOptions {
  /** Prefix of every path ('' on the server itself). */
  base?: string;
  locale(): Locale;
  /** Called when the server says the session is gone (401). */
  onUnauthenticated(error: DomainError): void;
  fetch?: typeof fetch;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** The server's error body carries more than ErrorData (the task, the holder); keep it. */
export class HttpError extends DomainError {
  constructor(
    readonly httpStatus: number,
    readonly body: Record<string, unknown>,
    source: DomainError,
  ) {
    super(source.code, source.details);
  }
}

export class Http {
  private readonly base: string;
  private readonly fetcher: typeof fetch;

  constructor(private readonly o: HttpOptions) {
    this.base = o.base ?? '';
    this.fetcher = o.fetch ?? ((...args) => fetch(...args));
  }

  private headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { 'accept-language': this.o.locale() === 'zh' ? 'zh-CN' : 'en' };
    if (json) h['content-type'] = 'application/json';
    return h;
  }

  private async answer<T>(res: Response): Promise<T> {
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      if (!res.ok) throw new DomainError('internal_error', { status: res.status, problem: text.slice(0, 200) });
    }
    if (res.ok) return body as T;
    const error = new HttpError(res.status, body, fromErrorData({ code: body.code, details: body.details }));
    if (res.status === 401) this.o.onUnauthenticated(error);
    throw error;
  }

  async get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') qs.set(k, String(v));
    const url = `${this.base}${path}${qs.size ? `?${qs}` : ''}`;
    let res: Response;
    try {
      res = await this.fetcher(url, { credentials: 'same-origin', headers: this.headers(false) });
    } catch (e) {
      throw new DomainError('unavailable', { problem: e instanceof Error ? e.message : String(e) });
    }
    return this.answer<T>(res);
  }

  async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body: unknown = {}): Promise<T> {
    let res: Response;
    try {
      res = await this.fetcher(`${this.base}${path}`, { method, credentials: 'same-origin', headers: this.headers(true), body: JSON.stringify(body) });
    } catch (e) {
      throw new DomainError('unavailable', { problem: e instanceof Error ? e.message : String(e) });
    }
    return this.answer<T>(res);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.send<T>('POST', path, body);
  }

  /** Upload a file's text with progress (fetch cannot report upload progress; XMLHttpRequest can). */
  upload<T>(path: string, content: Blob, contentType: string, onProgress: (p: UploadProgress) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `${this.base}${path}`);
      xhr.withCredentials = true;
      xhr.setRequestHeader('content-type', contentType);
      xhr.setRequestHeader('accept-language', this.o.locale() === 'zh' ? 'zh-CN' : 'en');
      xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : content.size });
      xhr.onerror = () => reject(new DomainError('unavailable', { problem: 'the upload did not reach the server' }));
      xhr.onload = () => {
        onProgress({ loaded: content.size, total: content.size });
        const res = new Response(xhr.responseText, { status: xhr.status });
        this.answer<T>(res).then(resolve, reject);
      };
      xhr.send(content);
    });
  }
}
