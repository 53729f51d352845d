/** Where a command writes: the process's streams, or a test's buffers. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** One `ssehub <name>` command: takes the arguments after its name, resolves with the exit code. */
export type Command = (args: string[], io: CommandIo) => Promise<number>;
