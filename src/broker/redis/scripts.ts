import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrokerUnavailableError } from '../../errors';
import type { RedisConnection } from './connection';

/** A Lua script shipped beside this file (scripts/build.js copies them to dist). */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

function loadScript(name: string): LuaScript {
  const source = readFileSync(join(__dirname, name), 'utf8');
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** Every script, read once at start-up. */
export const SCRIPTS = {
  publish: loadScript('publish.lua'),
  history: loadScript('history.lua'),
  presenceSync: loadScript('presence-sync.lua'),
  presenceRead: loadScript('presence-read.lua'),
  ticketRate: loadScript('ticket-rate.lua'),
} as const;

export type ScriptName = keyof typeof SCRIPTS;

// Replies that mean "the server cannot serve now", as opposed to a bug in a script.
const TRANSIENT_REPLY = /^(NOSCRIPT|LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|MOVED|ASK|NOREPLICAS)/;

/**
 * Runs scripts and plain commands on the command connection. Fails fast: while the connection is
 * not ready (or `isClosed()`), and when Redis cannot serve, it rejects with
 * BrokerUnavailableError; a reply error from a script itself (a bug) is rethrown as is.
 */
export class CommandRunner {
  constructor(
    private readonly command: RedisConnection,
    private readonly isClosed: () => boolean,
  ) {}

  /** EVALSHA, falling back to EVAL once per server (which caches the script there). */
  async script(name: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    const script = SCRIPTS[name];
    this.checkUsable();
    try {
      return await this.command.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: Error) => {
        if (error.message.startsWith('NOSCRIPT')) return this.command.eval(script.source, keys.length, ...keys, ...args);
        throw error;
      });
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof Error && error.name === 'ReplyError' && !TRANSIENT_REPLY.test(message)) throw error;
      throw new BrokerUnavailableError(`the event broker is unavailable (${message}); retry later`);
    }
  }

  /** A plain command; any failure becomes BrokerUnavailableError. */
  async run<T>(command: (connection: RedisConnection) => Promise<T>): Promise<T> {
    this.checkUsable();
    try {
      return await command(this.command);
    } catch (error) {
      throw new BrokerUnavailableError(`the event broker is unavailable (${(error as Error).message}); retry later`);
    }
  }

  private checkUsable(): void {
    if (this.isClosed() || this.command.status !== 'ready') throw new BrokerUnavailableError();
  }
}
