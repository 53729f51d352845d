import type { Command } from './command';
import { runDoctorCommand } from './doctor';

/**
 * The `ssehub` commands, by name. Each is one line: add a command by importing it and listing it
 * here (a command that takes no `io` ignores the second argument).
 */
export const COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  doctor: runDoctorCommand,
  // Loaded when run: json-schema-to-typescript (and the prettier it pulls in) is for `types` alone,
  // and `doctor` stays a command that needs nothing beyond Node.
  types: async (args) => (await import('./types.js')).runTypesCommand(args),
});
