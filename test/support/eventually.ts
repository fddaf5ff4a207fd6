/**
 * Polls `probe` until `accept` says yes or `ms` pass, and returns the last value either way, so the
 * assertion after it shows what was seen (webhooks and reactions arrive on their own time).
 */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  accept: (value: T) => boolean,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
