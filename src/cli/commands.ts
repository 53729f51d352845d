import type { Command } from './command';
import { runDoctorCommand } from './doctor';
import { runTypesCommand } from './types';

/**
 * The `ssehub` commands, by name. Each is one line: add a command by importing it and listing it
 * here (a command that takes no `io` ignores the second argument).
 */
export const COMMANDS: Readonly<Record<string, Command>> = Object.freeze({
  doctor: runDoctorCommand,
  types: runTypesCommand,
});
