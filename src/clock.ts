/**
 * Where "now" comes from. The domain never reads a clock: the command and query sides ask this one
 * and pass the instant in, so tests and replays can set time as data.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
