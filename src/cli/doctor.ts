import { anyFailed, formatReport, judge } from '../doctor/judge';
import { observe, type ObserveOptions } from '../doctor/observe';
import type { CommandIo } from './command';

const USAGE = 'usage: ssehub doctor <url of the hub as users reach it> [--origin <page origin>] [--idle <seconds>] [--json]\n';
const MAX_IDLE_S = 3600;

interface DoctorArguments extends ObserveOptions {
  readonly json: boolean;
}

/** The arguments, or the reason they are wrong. */
export function parseDoctorArguments(args: readonly string[]): DoctorArguments | string {
  let url: string | undefined;
  let origin: string | undefined;
  let idleSeconds: number | undefined;
  let json = false;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const value = args[index + 1];
    if (arg === '--json') json = true;
    else if (arg === '--origin' || arg === '--idle') {
      if (value === undefined) return `${arg} needs a value`;
      index++;
      if (arg === '--origin') {
        if (!URL.canParse(value) || new URL(value).origin !== value.replace(/\/$/, '')) return `--origin must be an origin like https://app.example.com, not "${value}"`;
        origin = new URL(value).origin;
      } else {
        idleSeconds = Number(value);
        if (!Number.isInteger(idleSeconds) || idleSeconds < 1 || idleSeconds > MAX_IDLE_S) return `--idle must be a whole number of seconds from 1 to ${MAX_IDLE_S}`;
      }
    } else if (arg.startsWith('-')) return `unknown option ${arg}`;
    else if (url === undefined) url = arg;
    else return `unexpected argument "${arg}"`;
  }
  if (url === undefined) return 'the hub\'s URL is missing';
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) return `"${url}" is not an http(s) URL`;
  return { url, json, ...(origin === undefined ? {} : { origin }), ...(idleSeconds === undefined ? {} : { idleSeconds }) };
}

/**
 * `ssehub doctor`: checks a deployment through whatever stands between the hub and its users,
 * prints each check's verdict (or, with --json, `{url, checks, failed}`), and resolves with 1 when
 * any check failed, 2 on wrong arguments, else 0.
 */
export async function runDoctorCommand(args: string[], io: CommandIo): Promise<number> {
  const parsed = parseDoctorArguments(args);
  if (typeof parsed === 'string') {
    io.stderr(`ssehub doctor: ${parsed}\n${USAGE}`);
    return 2;
  }
  if (!parsed.json) io.stdout(`checking ${parsed.url}${parsed.idleSeconds === undefined ? '' : ` (holding an idle stream for ${parsed.idleSeconds} s)`}...\n`);
  const results = judge(await observe(parsed));
  const failed = anyFailed(results);
  io.stdout(parsed.json ? `${JSON.stringify({ url: parsed.url, checks: results, failed }, null, 2)}\n` : formatReport(parsed.url, results));
  return failed ? 1 : 0;
}
