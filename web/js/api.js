// The API from the browser: JSON requests with the session's bearer token, problem+json errors
// as `ApiProblem`, and server-sent events read with fetch() (EventSource cannot send the
// Authorization header the server authenticates streams with).

/** @typedef {import('api-types').components['schemas']} Schemas */

export class ApiProblem extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} detail
   * @param {string | null} [field]
   */
  constructor(status, code, detail, field = null) {
    super(detail);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.field = field;
  }
}

/**
 * A session kept for this tab only (sessionStorage), under its page's own key.
 */
export class Session {
  /** @param {string} key */
  constructor(key) {
    this.key = key;
  }

  /** @returns {{token: string, user: Schemas['UserView']} | null} */
  get() {
    try {
      const raw = sessionStorage.getItem(this.key);
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  }

  /** @param {Schemas['SessionView']} session */
  set(session) {
    sessionStorage.setItem(this.key, JSON.stringify({ token: session.token, user: session.user }));
  }

  clear() {
    sessionStorage.removeItem(this.key);
  }

  token() {
    return this.get()?.token ?? null;
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {{body?: unknown, token?: string | null, headers?: Record<string, string>}} [options]
 * @returns {Promise<any>}
 */
export async function request(method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...(options.headers ?? {}) };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiProblem(0, 'network', 'network unreachable');
  }
  if (response.status === 204) return null;
  const type = response.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    throw new ApiProblem(
      response.status,
      body?.code ?? `http_${response.status}`,
      body?.detail ?? response.statusText,
      body?.field ?? null,
    );
  }
  return body;
}

/**
 * Every item of a paged list (`{<key>: [...], next_cursor}`), following the cursor, 200 a page,
 * at most `maxPages` pages.
 * @param {string} path
 * @param {string} key the answer's array field
 * @param {string | null} token
 * @param {number} [maxPages]
 * @returns {Promise<any[]>}
 */
export async function allPages(path, key, token, maxPages = 10) {
  /** @type {any[]} */
  const items = [];
  /** @type {string | null} */
  let cursor = null;
  for (let page = 0; page < maxPages; page++) {
    const params = new URLSearchParams({ limit: '200' });
    if (cursor) params.set('cursor', cursor);
    const answer = await request('GET', `${path}?${params}`, { token });
    items.push(...(Array.isArray(answer) ? answer : answer?.[key] ?? []));
    cursor = Array.isArray(answer) ? null : answer?.next_cursor ?? null;
    if (!cursor) break;
  }
  return items;
}

/** A new idempotency key: one per booking attempt. */
export function newKey() {
  if (typeof globalThis.crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * @typedef {{event: string, data: string, id: string | null}} StreamEvent
 */

/**
 * Reads a server-sent event stream with the bearer token; reconnects with a growing pause
 * (1 s up to 15 s) and resumes after the last event id. Returns a function that stops it.
 * @param {string} path
 * @param {string} token
 * @param {(event: StreamEvent) => void} onEvent
 * @param {(connected: boolean) => void} [onState]
 */
export function streamEvents(path, token, onEvent, onState = () => {}) {
  const stop = new AbortController();
  /** @type {string | null} */
  let lastId = null;
  let pause = 1000;
  (async () => {
    while (!stop.signal.aborted) {
      try {
        /** @type {Record<string, string>} */
        const headers = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
        if (lastId) headers['last-event-id'] = lastId;
        const response = await fetch(path, { headers, signal: stop.signal });
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          onState(false);
          return;
        }
        if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
        onState(true);
        pause = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          // Events end with a blank line; tolerate \r\n.
          buffer = buffer.replace(/\r\n?/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = parseEvent(block);
            if (event) {
              if (event.id) lastId = event.id;
              onEvent(event);
            }
          }
        }
      } catch (e) {
        if (stop.signal.aborted) return;
      }
      onState(false);
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 15000);
    }
  })();
  return () => stop.abort();
}

/**
 * One event block of `field: value` lines; comments (keep-alives) give null.
 * @param {string} block
 * @returns {StreamEvent | null}
 */
export function parseEvent(block) {
  let event = 'message';
  /** @type {string[]} */
  const data = [];
  /** @type {string | null} */
  let id = null;
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  }
  if (data.length === 0) return null;
  return { event, data: data.join('\n'), id };
}
