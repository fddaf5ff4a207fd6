/** Instants cross the domain boundary as epoch milliseconds inside, ISO-8601 strings in events. */
export const iso = (epochMs: number): string => new Date(epochMs).toISOString();

export const ms = (instant: string): number => Date.parse(instant);

export const optionalMs = (instant: string | undefined): number | undefined =>
  instant === undefined ? undefined : ms(instant);
