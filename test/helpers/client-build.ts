import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLIENT_SOURCE = join(ROOT, 'client', 'src');
const CLIENT_ENTRY = join(ROOT, 'client', 'dist', 'index.js');

/**
 * Builds client/dist (the @ssehub/client modules the hub serves to browsers, and the example
 * consumer's import) when it is missing or older than client/src. Call it before starting a
 * server whose pages load the client: the hub reads client/dist once, at start.
 */
export function ensureClientBuilt(): void {
  const newestSourceMs = Math.max(...readdirSync(CLIENT_SOURCE).map((name) => statSync(join(CLIENT_SOURCE, name)).mtimeMs));
  if (existsSync(CLIENT_ENTRY) && statSync(CLIENT_ENTRY).mtimeMs >= newestSourceMs) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), '--client'], { cwd: ROOT, stdio: 'ignore' });
}
