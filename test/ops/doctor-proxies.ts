/** deploy/nginx.conf turned into the misconfigured proxies the doctor must catch. */

function replaceOnce(conf: string, search: string, replacement: string): string {
  if (conf.split(search).length !== 2) throw new Error(`nginx.conf: expected "${search}" exactly once`);
  return conf.replace(search, replacement);
}

const CATCH_ALL = 'location / {\n      proxy_pass http://ssehub;\n';

/**
 * Buffers responses outside the stream location (where the probe goes), ignoring the hub's
 * `X-Accel-Buffering: no`. Measured: with `proxy_buffering on` alone nginx still passes each
 * chunk of an HTTP/1.1 chunked answer on at once to a fast client; over HTTP/1.0 to the hub
 * (nginx's default proxy_http_version) it holds the probe until it ends.
 */
export function bufferingProxy(conf: string): string {
  return replaceOnce(conf, CATCH_ALL, `${CATCH_ALL}      proxy_buffering on;\n      proxy_ignore_headers X-Accel-Buffering;\n      proxy_http_version 1.0;\n`);
}

/** Gzips event streams, however small. */
export function gzipProxy(conf: string): string {
  return replaceOnce(conf, 'gzip_types application/json application/javascript text/css;', 'gzip_types text/event-stream;\n  gzip_min_length 1;');
}

/** Removes Last-Event-ID from every proxied request. */
export function lastEventIdDroppingProxy(conf: string): string {
  const anchor = 'proxy_set_header X-Forwarded-Proto $scheme;\n';
  return replaceOnce(conf, anchor, `${anchor}    proxy_set_header Last-Event-ID "";\n`);
}

/** Cuts a stream after 5 s without a byte from the hub. */
export function idleCuttingProxy(conf: string): string {
  return replaceOnce(conf, 'proxy_read_timeout 1h;', 'proxy_read_timeout 5s;');
}
