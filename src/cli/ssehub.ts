import type { Command, CommandIo } from './command';
import { COMMANDS } from './commands';

const PROCESS_IO: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function usage(commands: Readonly<Record<string, Command>>): string {
  return `usage: ssehub <command> [arguments]\ncommands: ${Object.keys(commands).sort().join(', ')}\n`;
}

/**
 * The `ssehub` dispatcher: runs `commands[args[0]]` with the remaining arguments and resolves
 * with its exit code; an unknown or missing command prints the usage and resolves with 2.
 */
export async function runSsehub(args: readonly string[], commands: Readonly<Record<string, Command>>, io: CommandIo = PROCESS_IO): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout(usage(commands));
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    io.stderr(`ssehub: unknown command "${name}"\n${usage(commands)}`);
    return 2;
  }
  return command(rest, io);
}

/** The entry of bin/ssehub.js: runs the command table of ./commands and sets the exit code. */
export async function main(args: readonly string[]): Promise<void> {
  process.exitCode = await runSsehub(args, COMMANDS);
}
