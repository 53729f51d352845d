import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Router from '@koa/router';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createMemoryBrokers } from '../../src/broker/create-broker';
import { Metrics } from '../../src/metrics';
import type { PresenceTracker } from '../../src/presence/tracker';
import { wireApp } from '../../src/http/wire-app';
import { testConfig } from '../helpers/test-server';

interface Operation {
  readonly responses: Record<string, unknown>;
}
type OpenApi = { readonly openapi: string; readonly paths: Record<string, Record<string, Operation>> };

const document = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8')) as OpenApi;
const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/** The app wired as server.ts wires it (the router is not reachable from a started server). */
function buildApp(): { app: ReturnType<typeof createApp>; presence: PresenceTracker } {
  // With ADMIN_TOKEN: without it the server API and the dashboard have no routes at all.
  const config = testConfig('memory', { ADMIN_TOKEN: 'openapi-admin-token-0123' });
  const { app, presence } = wireApp(config, createMemoryBrokers(config), new Metrics(), pino({ level: 'silent' }));
  return { app, presence };
}

/** Every `METHOD /path` the app's router serves, in OpenAPI's `{param}` spelling. */
function realRoutes(app: ReturnType<typeof createApp>): Set<string> {
  const routes = new Set<string>();
  for (const middleware of app.middleware) {
    const router = (middleware as unknown as { router?: Router }).router;
    if (router === undefined) continue;
    for (const layer of router.stack) {
      const path = String(layer.path).replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      for (const method of layer.methods) if (METHODS.has(method.toLowerCase())) routes.add(`${method.toLowerCase()} ${path}`);
    }
  }
  return routes;
}

function documentedRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of Object.keys(operations)) if (METHODS.has(method)) routes.add(`${method} ${path}`);
  }
  return routes;
}

describe('docs/openapi.json', () => {
  const { app, presence } = buildApp();
  const server = app.listen(0, '127.0.0.1');
  afterAll(async () => {
    presence.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('is OpenAPI 3.1 and documents exactly the routes the server has', () => {
    expect(document.openapi).toBe('3.1.0');
    const real = realRoutes(app);
    expect(real.size).toBeGreaterThan(10);
    expect([...documentedRoutes()].sort()).toEqual([...real].sort());
  });

  it('every $ref points at a component that exists', () => {
    const text = JSON.stringify(document);
    for (const [, ref] of text.matchAll(/"\$ref":"#\/([^"]+)"/g)) {
      let node: unknown = document;
      for (const part of ref!.split('/')) node = (node as Record<string, unknown> | undefined)?.[part];
      expect([ref, node !== undefined]).toEqual([ref, true]);
    }
  });

  it.each([
    ['get', '/channels/{channel}/events', () => request(server).get('/channels/docs/events?limit=5')],
    ['get', '/channels/{channel}/events', () => request(server).get('/channels/docs/events?limit=5000')],
    ['post', '/channels/{channel}/events', () => request(server).post('/channels/docs/events').send({ data: 1 })],
    ['post', '/channels/{channel}/events', () => request(server).post('/channels/docs/events').send({ nodata: 1 })],
    ['post', '/channels/{channel}/events', () => request(server).post('/channels/docs/events').set('Content-Type', 'text/plain').send('x')],
    ['get', '/healthz', () => request(server).get('/healthz')],
    ['get', '/readyz', () => request(server).get('/readyz')],
    ['get', '/me', () => request(server).get('/me')],
    ['post', '/login', () => request(server).post('/login').send({ name: '' })],
    ['get', '/client/{file}', () => request(server).get('/client/no-such-module.js')],
    ['post', '/tickets', () => request(server).post('/tickets')],
    ['get', '/channels/{channel}/presence', () => request(server).get('/channels/chat/presence')],
    ['get', '/channels/{channel}/presence', () => request(server).get('/channels/untracked/presence')],
  ])('documents the status the server answers to %s %s', async (method, path, send) => {
    const response = await send();
    expect(Object.keys(document.paths[path]![method]!.responses)).toContain(String(response.status));
  });
});
