/**
 * (8) Soak: whether memory is bounded by configuration rather than by traffic. Spends at a steady
 * rate for minutes (soak-child.ts, in a process of its own), samples RSS every few seconds, and
 * judges the samples after the warm-up: flat when the largest is within 10 % of the smallest.
 * Bounded in time (the child is killed a minute after its end) and to this machine: no network.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { SoakChildResult, SoakOptions, SoakSample } from './soak-child';

export interface SoakResult extends SoakChildResult {
  options: SoakOptions;
  /** RSS after the warm-up: smallest, largest, and the largest over the smallest. */
  afterWarmup: { minRssMb: number; maxRssMb: number; ratio: number; within10Percent: boolean };
  /** RSS growth per million spends after the warm-up, from a least-squares line through the samples. */
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
  const after = result.samples.filter((sample) => sample.at >= options.warmupSeconds);
  const rss = after.map((sample) => sample.rssMb);
  const minRssMb = Math.min(...rss);
  const maxRssMb = Math.max(...rss);
  const ratio = Math.round((maxRssMb / minRssMb) * 1000) / 1000;
  return {
    ...result,
    options,
    afterWarmup: { minRssMb, maxRssMb, ratio, within10Percent: ratio <= 1.1 },
    bytesPerSpend: Math.round(slope(after) * 1024 * 1024),
  };
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
