import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { notFound } from '../api/admin-auth';

export interface AdminPageOptions {
  /** ADMIN_TOKEN; undefined = the dashboard does not exist (404). */
  readonly adminToken: string | undefined;
  /** The views directory; the dashboard is its `admin/` folder. */
  readonly viewsDir: string;
}

/** The page asks for the token and sends it in the Authorization header only: nothing inline. */
const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-cache',
});

const ASSET_NAME = /^[a-z0-9-]+\.(?:js|css)$/;
const TYPES: Readonly<Record<string, string>> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', html: 'text/html; charset=utf-8' };

/** uPlot's browser build, served beside the page (no bundler, no CDN). */
function uplotFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let dist: string;
  try {
    dist = join(dirname(require.resolve('uplot/package.json')), 'dist');
  } catch {
    return files;
  }
  for (const [served, file] of [['uplot.js', 'uPlot.esm.js'], ['uplot.css', 'uPlot.min.css']] as const) {
    if (existsSync(join(dist, file))) files.set(served, readFileSync(join(dist, file)));
  }
  return files;
}

/**
 * `GET /admin` (the dashboard, views/admin/index.html), its modules and styles under
 * `/admin/<file>` and uPlot under `/admin/vendor/<file>`, all read once at start. Without
 * ADMIN_TOKEN every one answers 404 `not_found`. The page itself holds no secret: its data
 * comes from `/api/*` with the token the operator types in.
 */
export function adminPageRoutes(router: Router, options: AdminPageOptions): void {
  // Without ADMIN_TOKEN the dashboard does not exist: 404 for every method (no 405, no `Allow`).
  if (options.adminToken === undefined) return;
  const dir = join(options.viewsDir, 'admin');
  const assets = new Map<string, Buffer>();
  if (options.adminToken !== undefined && existsSync(dir)) {
    for (const name of readdirSync(dir)) if (ASSET_NAME.test(name)) assets.set(name, readFileSync(join(dir, name)));
  }
  const vendor = options.adminToken === undefined ? new Map<string, Buffer>() : uplotFiles();
  const indexFile = join(dir, 'index.html');
  const page = options.adminToken !== undefined && existsSync(indexFile) ? readFileSync(indexFile) : undefined;

  router.get('/admin', (ctx) => answer(ctx, page, 'index.html'));
  router.get('/admin/vendor/:file', (ctx) => answer(ctx, vendor.get(ctx.params.file ?? ''), ctx.params.file ?? ''));
  router.get('/admin/:file', (ctx) => answer(ctx, assets.get(ctx.params.file ?? ''), ctx.params.file ?? ''));
}

function answer(ctx: Context, content: Buffer | undefined, name: string): void {
  if (content === undefined) throw notFound(ctx.method, ctx.path);
  ctx.set(PAGE_HEADERS);
  ctx.type = TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream';
  ctx.body = content;
}
