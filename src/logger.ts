import pino, { Logger } from 'pino';

/** Structured JSON logs; one logger for the process. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'supplier-risk-register' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
