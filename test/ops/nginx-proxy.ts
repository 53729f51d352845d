import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/redis-server';
import { pollUntil } from './redis-topology';

/** The shipped configuration, which the test runs with local addresses. */
export const SHIPPED_NGINX_CONF = join(__dirname, '..', '..', 'deploy', 'nginx.conf');

/** A running nginx in front of local hub instances. */
export interface NginxProxy {
  readonly url: string;
  /** What nginx wrote to stderr (its error log), for failure messages. */
  readonly log: () => string;
  /** nginx's access log as written so far (a request is logged when its response ends). */
  readonly accessLog: () => string;
  stop(): Promise<void>;
}

function replaceOnce(text: string, search: string, replacement: string): string {
  const count = text.split(search).length - 1;
  if (count !== 1) throw new Error(`deploy/nginx.conf: expected "${search}" exactly once, found it ${count} times`);
  return text.replace(search, replacement);
}

/**
 * deploy/nginx.conf with its two upstreams pointed at `upstreamPorts`, its listen port at
 * `listenPort`, and nginx's temporary files kept under `dir`. Throws when the shipped file no
 * longer has the lines replaced, so the test never silently runs another configuration.
 */
export function localNginxConf(upstreamPorts: readonly [number, number], listenPort: number, dir: string): string {
  let conf = readFileSync(SHIPPED_NGINX_CONF, 'utf8');
  conf = replaceOnce(conf, 'server hub1:3000 ', `server 127.0.0.1:${upstreamPorts[0]} `);
  conf = replaceOnce(conf, 'server hub2:3000 ', `server 127.0.0.1:${upstreamPorts[1]} `);
  conf = replaceOnce(conf, 'listen 80;', `listen 127.0.0.1:${listenPort};`);
  conf = replaceOnce(conf, 'access_log /var/log/nginx/access.log ssehub;', `access_log ${join(dir, 'access.log')} ssehub;`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
    .map((kind) => `  ${kind}_temp_path ${join(dir, kind)};`)
    .join('\n');
  return replaceOnce(conf, 'http {\n', `http {\n${temp}\n`);
}

function nginxBinary(): string {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    try {
      execFileSync(candidate, ['-v'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  // Fail loudly: CI installs nginx-light (.ci/run), so a missing nginx is a broken setup, not a skip.
  throw new Error('nginx is not installed: run `apt-get install nginx-light` (the nginx test does not skip)');
}

/**
 * Starts nginx in the foreground on a free port and resolves once it proxies `/healthz`;
 * `variant` may change the local configuration first (a misconfigured proxy, for the doctor).
 */
export async function startNginx(upstreamPorts: readonly [number, number], variant: (conf: string) => string = (conf) => conf): Promise<NginxProxy> {
  const binary = nginxBinary();
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-nginx-'));
  mkdirSync(join(dir, 'logs'));
  const port = await freePort();
  const confFile = join(dir, 'nginx.conf');
  try {
    writeFileSync(confFile, variant(localNginxConf(upstreamPorts, port, dir)));
    execFileSync(binary, ['-t', '-q', '-c', confFile, '-p', `${dir}/`, '-g', `pid ${join(dir, 'nginx.pid')};`], { stdio: 'pipe' });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const child = spawn(binary, ['-c', confFile, '-p', `${dir}/`, '-g', `daemon off; pid ${join(dir, 'nginx.pid')};`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit');
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM is nginx's fast shutdown: open streams are cut at once.
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pollUntil(
      () => {
        if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}`);
        return new Promise<boolean>((resolve) => {
          request(`${url}/healthz`, (res) => {
            res.resume();
            resolve(res.statusCode === 200);
          })
            .on('error', () => resolve(false))
            .end();
        });
      },
      'nginx to proxy /healthz',
      10_000,
      50,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const accessLog = (): string => {
    try {
      return readFileSync(join(dir, 'access.log'), 'utf8');
    } catch {
      return '';
    }
  };
  return { url, log: () => stderr, accessLog, stop };
}
