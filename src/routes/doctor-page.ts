import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { AppError } from '../errors';

/** Where the build emits the doctor's shared modules as ES modules (the same from src/ and dist/). */
export const DOCTOR_MODULES_DIR = join(__dirname, '..', '..', 'dist', 'browser', 'doctor');

/** The page's own files (views/doctor/) and the built shared modules, by their path under /doctor/. */
const PAGE_FILES = ['index.html', 'page.js', 'observe.js', 'doctor.css'];
const BUILT_MODULES = ['judge.js', 'probe-reader.js'];

/** Only the page's own scripts and the chat's style; it connects to its own origin only. */
const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
});

/**
 * `GET /doctor`: the page that runs the doctor's checks from the browser. Files are read once,
 * at start; the shared modules come from the build (`npm run build`), and when they are missing
 * their paths answer 404 `not_found` saying so.
 */
export function doctorPageRoutes(router: Router, viewsDir: string, modulesDir = DOCTOR_MODULES_DIR): void {
  const files = new Map<string, Buffer>();
  for (const name of PAGE_FILES) files.set(name, readFileSync(join(viewsDir, 'doctor', name)));
  for (const name of BUILT_MODULES) {
    const file = join(modulesDir, name);
    if (existsSync(file)) files.set(name, readFileSync(file));
  }
  const serve = (ctx: Context, name: string): void => {
    const content = files.get(name);
    if (content === undefined) {
      const built = BUILT_MODULES.includes(name);
      throw new AppError('not_found', built ? 'the doctor page is not built: run npm run build' : 'no such file of the doctor page');
    }
    ctx.set(PAGE_HEADERS);
    ctx.type = name.endsWith('.html') ? 'text/html; charset=utf-8' : name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    ctx.body = content;
  };
  router.get('/doctor', (ctx) => serve(ctx, 'index.html'));
  router.get('/doctor/:file', (ctx) => serve(ctx, ctx.params.file === 'index.html' ? '' : (ctx.params.file ?? '')));
}
