/** Instants cross the domain boundary as epoch milliseconds inside, ISO-8601 strings in events. */

// The last few instants formatted, both ways. A command formats its instant (a hold also its
// expiry), and evolve parses the same strings back right after; commands decided together were
// mostly made in the same millisecond. Formatting and parsing were a good part of what a hold's
// reserve and settle cost, and a lookup here costs next to nothing. Only `iso` fills it, with
// what `Date.parse` gives back for the text it made, so `ms` answers exactly as Date.parse would.
const SLOTS = 4;
const cachedMs: number[] = new Array<number>(SLOTS).fill(Number.NaN);
const cachedIso: string[] = new Array<string>(SLOTS).fill('');
let nextSlot = 0;

export const iso = (epochMs: number): string => {
  for (let slot = 0; slot < SLOTS; slot++) if (cachedMs[slot] === epochMs) return cachedIso[slot] as string;
  const date = new Date(epochMs);
  const text = date.toISOString(); // throws for an invalid instant, which is then not kept
  cachedMs[nextSlot] = date.getTime(); // a whole number of ms, +0 for -0: what Date.parse(text) gives
  cachedIso[nextSlot] = text;
  nextSlot = (nextSlot + 1) % SLOTS;
  return text;
};

export const ms = (instant: string): number => {
  for (let slot = 0; slot < SLOTS; slot++) if (cachedIso[slot] === instant) return cachedMs[slot] as number;
  return Date.parse(instant);
};

export const optionalMs = (instant: string | undefined): number | undefined =>
  instant === undefined ? undefined : ms(instant);
