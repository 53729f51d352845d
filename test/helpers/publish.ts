/** What `POST /channels/:channel/events` answered: 201/200 `{ id, channel, event }` or `{ error }`. */
export interface PublishAnswer {
  status: number;
  body: { id?: string; channel?: string; event?: string; error?: { code: string; message?: string } };
}

/** Who publishes and how; every field is optional. */
export interface PublishOptions {
  /** The event name; left out of the body when unset (the server defaults it). */
  event?: string;
  /** Sent as `Authorization: Bearer <token>` (PUBLISH_TOKEN or a JWT with a publish grant). */
  token?: string;
  /** Sent as `Idempotency-Key`. */
  idempotencyKey?: string;
  /** Any further request headers. */
  headers?: Record<string, string>;
}

/**
 * Publishes `data` on `channel` of the server at `target` (a base URL or anything with `url`)
 * over real HTTP and returns the status and parsed JSON body, whatever the status: the caller
 * asserts. A body that is not JSON (a proxy's error page) becomes `{}`.
 */
export async function publishJson(target: string | { url: string }, channel: string, data: unknown, options: PublishOptions = {}): Promise<PublishAnswer> {
  const baseUrl = typeof target === 'string' ? target : target.url;
  const headers: Record<string, string> = { 'Content-Type': 'application/json', ...options.headers };
  if (options.token !== undefined) headers.Authorization = `Bearer ${options.token}`;
  if (options.idempotencyKey !== undefined) headers['Idempotency-Key'] = options.idempotencyKey;
  const response = await fetch(`${baseUrl}/channels/${channel}/events`, {
    method: 'POST',
    headers,
    body: JSON.stringify(options.event === undefined ? { data } : { event: options.event, data }),
  });
  const text = await response.text();
  let body: PublishAnswer['body'] = {};
  try {
    body = JSON.parse(text) as PublishAnswer['body'];
  } catch {
    // Not JSON: leave the body empty, the status tells the story.
  }
  return { status: response.status, body };
}

/**
 * `publishJson` for the common case: throws (with the status and body) unless the answer is 201,
 * and returns the new event's id as the server wrote it (a decimal string, as in `id:` lines).
 */
export async function publishId(target: string | { url: string }, channel: string, data: unknown, options: PublishOptions = {}): Promise<string> {
  const answer = await publishJson(target, channel, data, options);
  if (answer.status !== 201 || answer.body.id === undefined) {
    throw new Error(`publish on ${channel} answered ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body.id;
}
