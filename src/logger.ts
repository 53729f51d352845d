import pino, { type Logger } from 'pino';

/** JSON lines on stdout at `level`. Never logs event data, tokens or cookies. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { pid: process.pid },
    redact: ['req.headers.authorization', 'req.headers.cookie'],
  });
}
