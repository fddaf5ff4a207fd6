import pino, { type Logger } from 'pino';

/** Structured JSON logs on stdout, one object per line. */
export const createLogger = (level: string): Logger =>
  pino({ level, base: { service: 'credits' }, redact: ['req.headers.authorization', 'req.headers.cookie'] });
