/** Structured logs (pino): JSON lines, or a human format when stdout is a terminal. */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Level from LOG_LEVEL (default info); the human format when stdout is a TTY. */
export function createLogger(): Logger {
  const level = process.env.LOG_LEVEL ?? 'info';
  if (process.stdout.isTTY) return pino({ level }, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  return pino({ level, base: { service: 'shopfloor-server' } });
}

/** A logger that writes nothing (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
