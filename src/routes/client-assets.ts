import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Router from '@koa/router';
import { AppError } from '../errors';

/** Where the build puts the @ssehub/client modules (the same from src/routes and dist/routes). */
export const CLIENT_DIST_DIR = join(__dirname, '..', '..', 'client', 'dist');

/** The entry module's stable name under `/client/`; it imports its siblings relatively. */
export const CLIENT_ENTRY_PATH = '/client/ssehub-client.js';

const MODULE_NAME = /^[a-z0-9-]+\.js$/;
/** Node-only modules (they import `node:` built-ins) are not served to browsers. */
const NODE_ONLY = new Set(['node.js']);

/**
 * Serves the built @ssehub/client to browsers as ES modules, no bundler needed:
 * `import { SseHubClient } from '/client/ssehub-client.js'`. The files are read once at start;
 * when the client was not built, every path answers 404 `not_found` naming `npm run build`.
 */
export function clientAssetRoutes(router: Router, distDir = CLIENT_DIST_DIR): void {
  const modules = new Map<string, Buffer>();
  if (existsSync(distDir)) {
    for (const name of readdirSync(distDir)) {
      if (MODULE_NAME.test(name) && !NODE_ONLY.has(name)) modules.set(name, readFileSync(join(distDir, name)));
    }
  }
  const index = modules.get('index.js');
  if (index !== undefined) modules.set(CLIENT_ENTRY_PATH.slice('/client/'.length), index);

  router.get('/client/:file', (ctx) => {
    const content = modules.get(ctx.params.file ?? '');
    if (content === undefined) {
      throw new AppError('not_found', modules.size === 0 ? 'the client is not built: run npm run build' : 'no such client module');
    }
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = content;
  });
}
