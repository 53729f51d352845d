// The dashboard's only way to the hub: every request carries the admin token in the
// Authorization header. The token lives in this tab's sessionStorage, never in a URL or cookie.

const TOKEN_KEY = 'ssehub.adminToken';

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders() {
  const token = storedToken();
  return token === null ? {} : { Authorization: `Bearer ${token}` };
}

/** A refusal of the hub: its status and `{"error":{"code","message","details"?}}`. */
export class HubError extends Error {
  constructor(status, body) {
    const error = body && typeof body === 'object' && body.error ? body.error : {};
    super(error.message || `the hub answered ${status}`);
    this.status = status;
    this.code = error.code || 'http_error';
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

/** Sends a request with the token; resolves with the parsed JSON (null for 204), rejects with HubError. */
export async function request(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...authHeaders(), ...extraHeaders };
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!response.ok) throw new HubError(response.status, parsed);
  return parsed;
}

export const channelPath = (channel) => `/channels/${encodeURIComponent(channel)}`;
