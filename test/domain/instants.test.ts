/**
 * iso and ms remember the last few instants they formatted, and answer exactly as Date does: for
 * any mix of instants formatted and texts parsed, repeated or not.
 */
import fc from 'fast-check';
import { iso, ms } from '../../src/domain/instants';

const MAX = 8.64e15; // the last instant a Date holds

it('formats and parses exactly as Date does, whatever was formatted before', () => {
  const instant = fc.oneof(
    fc.integer({ min: -MAX, max: MAX }),
    fc.constantFrom(0, -0, 1.5, -1.5, 1_764_666_000_000, 1_764_666_000_000.9),
  );
  const text = fc.oneof(
    instant.map((epochMs) => new Date(epochMs).toISOString()),
    fc.constantFrom('', 'not a date', '2026-01-01', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00.000+01:00'),
  );
  const step = fc.oneof(
    instant.map((epochMs) => ({ kind: 'iso' as const, epochMs })),
    text.map((instantText) => ({ kind: 'ms' as const, instantText })),
  );
  fc.assert(
    fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
      for (const s of steps) {
        if (s.kind === 'iso') expect(iso(s.epochMs)).toBe(new Date(s.epochMs).toISOString());
        else expect(Object.is(ms(s.instantText), Date.parse(s.instantText))).toBe(true);
      }
    }),
    { seed: 15, numRuns: 500 },
  );
});

it('parses back what it formatted, +0 for -0 and whole milliseconds, as Date.parse does', () => {
  expect(Object.is(ms(iso(-0)), 0)).toBe(true);
  expect(ms(iso(1.9))).toBe(1);
  expect(ms(iso(-1.5))).toBe(Date.parse(new Date(-1.5).toISOString()));
});

it('refuses an invalid instant, and remembers nothing of it', () => {
  expect(() => iso(Number.NaN)).toThrow(RangeError);
  expect(() => iso(MAX + 1)).toThrow(RangeError);
  expect(Number.isNaN(ms(''))).toBe(true);
});
