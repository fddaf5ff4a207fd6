/** Durations as the configuration writes them: `250ms`, `5s`, `30m`, `2h`, `5d`, comma-separated. */
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDurations(input: string): number[] {
  return input.split(',').map((part) => {
    const match = /^\s*(\d+)\s*(ms|s|m|h|d)\s*$/.exec(part);
    if (!match) throw new Error(`Invalid duration "${part.trim()}" (expected a whole number and ms, s, m, h or d)`);
    return Number(match[1]) * (UNITS[match[2] as string] as number);
  });
}
