// Daemon logs: JSON lines on stderr via pino; MESHCTL_LOG_LEVEL picks the level.
import pino, { type Logger } from 'pino';

export function makeLogger(name: string): Logger {
  return pino({ name, level: process.env.MESHCTL_LOG_LEVEL ?? 'info', base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}
