import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// Docker cannot run in every test environment; these checks keep the shipped files consistent
// with each other and with the server (the image itself is built by `docker build`).
const root = join(__dirname, '..', '..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

describe('Dockerfile, docker-compose.yml and deploy/nginx.conf', () => {
  it('point nginx at the compose services on the port the image exposes', () => {
    const nginx = read('deploy/nginx.conf');
    const compose = read('docker-compose.yml');
    const dockerfile = read('Dockerfile');
    const upstreams = [...nginx.matchAll(/^\s*server (\S+):(\d+)\b/gm)].map((match) => ({ host: match[1]!, port: match[2]! }));
    expect(upstreams.map((upstream) => upstream.host)).toEqual(['hub1', 'hub2']);
    for (const upstream of upstreams) {
      expect(compose).toMatch(new RegExp(`^  ${upstream.host}:`, 'm'));
      expect(dockerfile).toContain(`EXPOSE ${upstream.port}`);
      expect(dockerfile).toMatch(new RegExp(`PORT=${upstream.port}\\b`));
    }
    expect(compose).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('builds an image that runs the compiled server as the node user with production dependencies', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(dockerfile).toContain('CMD ["node", "dist/server.js"]');
    expect(dockerfile).toContain('COPY views ./views');
    // The build copies the Lua scripts beside the compiled broker (scripts/build.js).
    expect(read('scripts/build.js')).toContain('.lua');
    const ignored = read('.dockerignore').split('\n').map((line) => line.trim());
    for (const needed of ['src', 'views', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(ignored).not.toContain(needed);
    }
  });
});
