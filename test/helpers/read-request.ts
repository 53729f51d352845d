/** A read route of a channel: its stream or its history. */
export type ReadRoute = 'stream' | 'history';
export const READ_ROUTES: ReadRoute[] = ['stream', 'history'];

/** What a read answered: status, the headers that matter here, and the JSON error code if any. */
export interface ReadOutcome {
  readonly status: number;
  readonly contentType: string;
  readonly wwwAuthenticate: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
}

/**
 * Opens `GET /channels/:channel/stream` or `/events` with `headers` and `query` and resolves with
 * what it answered. An open stream is closed as soon as its headers arrived.
 */
export async function readChannel(
  baseUrl: string,
  route: ReadRoute,
  channel: string,
  options: { headers?: Record<string, string>; query?: string } = {},
): Promise<ReadOutcome> {
  const path = route === 'stream' ? 'stream' : 'events';
  const abort = new AbortController();
  const response = await fetch(`${baseUrl}/channels/${channel}/${path}${options.query ? `?${options.query}` : ''}`, {
    headers: options.headers ?? {},
    signal: abort.signal,
  });
  const contentType = response.headers.get('content-type') ?? '';
  let errorCode: string | null = null;
  let errorMessage: string | null = null;
  if (contentType.startsWith('text/event-stream')) {
    abort.abort();
  } else {
    const body = (await response.json()) as { error?: { code: string; message: string } };
    errorCode = body.error?.code ?? null;
    errorMessage = body.error?.message ?? null;
  }
  return { status: response.status, contentType, wwwAuthenticate: response.headers.get('www-authenticate'), errorCode, errorMessage };
}

/** `Authorization: Bearer <token>`. */
export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** `Cookie: ssehub_token=<token>`. */
export function tokenCookie(token: string): Record<string, string> {
  return { Cookie: `ssehub_token=${token}` };
}
