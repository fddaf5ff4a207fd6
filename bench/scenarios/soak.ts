/**
 * (9) Soak: whether memory is bounded by configuration rather than by traffic. Spends at a steady
 * rate for minutes (soak-child.ts, in a process of its own), samples RSS every few seconds, and
 * judges the samples after the warm-up (see soak-child.ts): flat when none is more than 10 % above
 * the RSS at the end of the warm-up (the median of the first minute after it). Memory that grows
 * with traffic fails that sooner or later; V8 giving heap back to the system between two full
 * collections (the RSS drops, then climbs back) does not, so the largest over the smallest is shown
 * beside it, and so is the part of the RSS that is not V8's heap (SQLite's page caches, the worker
 * threads, buffers), which tells the two apart.
 * Bounded in time (the child is killed a minute after its end) and to this machine: no network.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { SoakChildResult, SoakOptions, SoakSample } from './soak-child';

export interface SoakResult extends SoakChildResult {
  options: SoakOptions;
  afterWarmup: {
    /** The median RSS of the first minute after the warm-up. */
    startRssMb: number;
    minRssMb: number;
    maxRssMb: number;
    /** The largest over startRssMb: what is judged. */
    growth: number;
    /** The largest over the smallest. */
    ratio: number;
    /** RSS less V8's heap (heapTotal): smallest and largest. */
    outsideHeapMb: [number, number];
    within10Percent: boolean;
  };
  /** RSS growth per spend after the warm-up, from a least-squares line through the samples. */
  bytesPerSpend: number;
}

export function soakBench(options: SoakOptions): Promise<SoakResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [join(__dirname, 'soak-child.js'), JSON.stringify(options)],
      { timeout: (options.seconds + 60) * 1000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout) => {
        if (error) {
          reject(new Error(`the soak failed: ${error.message}`, { cause: error }));
          return;
        }
        resolve(judge(options, JSON.parse(stdout) as SoakChildResult));
      },
    );
    child.stderr?.pipe(process.stderr);
  });
}

function judge(options: SoakOptions, result: SoakChildResult): SoakResult {
  const ended = result.warmupEndedAt;
  const after = ended === null ? [] : result.samples.filter((sample) => sample.at >= ended);
  const rss = after.map((sample) => sample.rssMb);
  const outside = after.map((sample) => round1(sample.rssMb - sample.heapTotalMb));
  const start = after.filter((sample) => ended !== null && sample.at < ended + 60).map((sample) => sample.rssMb);
  const startRssMb = median(start);
  const [minRssMb, maxRssMb] = extent(rss);
  const growth = round3(maxRssMb / startRssMb);
  return {
    ...result,
    options,
    afterWarmup: {
      startRssMb,
      minRssMb,
      maxRssMb,
      growth,
      ratio: round3(maxRssMb / minRssMb),
      outsideHeapMb: extent(outside),
      // Fewer than 3 samples after the warm-up is no curve: not met.
      within10Percent: after.length >= 3 && growth <= 1.1,
    },
    bytesPerSpend: Math.round(slope(after) * 1024 * 1024),
  };
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** The smallest and the largest; zeros when there is none. */
const extent = (values: number[]): [number, number] =>
  values.length === 0 ? [0, 0] : [Math.min(...values), Math.max(...values)];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** MB of RSS per spend: the least-squares slope of RSS over spends. */
function slope(samples: SoakSample[]): number {
  const n = samples.length;
  if (n < 2) return 0;
  const meanX = samples.reduce((sum, sample) => sum + sample.spends, 0) / n;
  const meanY = samples.reduce((sum, sample) => sum + sample.rssMb, 0) / n;
  let covariance = 0;
  let variance = 0;
  for (const sample of samples) {
    covariance += (sample.spends - meanX) * (sample.rssMb - meanY);
    variance += (sample.spends - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}
