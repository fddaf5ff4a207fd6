/**
 * Credits spent per day by action: stacked bars in inline SVG, a legend, and the same numbers as a
 * table (visually hidden until "Show as table", always available to screen readers).
 */
import { actionLabel, formatCredits, formatDay, formatLongDay } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
/** Stacking order, bottom to top; each has a colour in billing.css (.series--ACTION). */
export const SERIES_ORDER = [
  'ORG_CHART_GENERATION',
  'ORG_CHART_SYNC',
  'BUYING_COMMITTEE_MAPPING',
  'ACTION_PLAN_GENERATION',
  'PERSON_ENRICHMENT',
  'OTHER',
];

const DAY_MS = 24 * 60 * 60 * 1000;
const isoDay = (time) => new Date(time).toISOString().slice(0, 10);

/** The UTC days [from, to) of the last `count` days, today included. */
export function dayRange(count, now = Date.now()) {
  const today = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), new Date(now).getUTCDate());
  const to = today + DAY_MS;
  const from = to - count * DAY_MS;
  const days = [];
  for (let time = from; time < to; time += DAY_MS) days.push(isoDay(time));
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), days };
}

/**
 * Day × action from the spends (ledger CONSUMPTION and HOLD_SETTLED entries, net of refunds), checked against the
 * per-day totals of creditUsage: whatever the spends do not explain (a truncated ledger) is "Other".
 */
export function usageByDayAndAction(days, usageByDay, spends) {
  const rows = new Map(days.map((day) => [day, { day, total: 0, byAction: new Map() }]));
  for (const spend of spends) {
    const row = rows.get(spend.occurredAt.slice(0, 10));
    if (!row || !spend.action) continue;
    const net = spend.spentCredits - spend.refundedCredits;
    if (net <= 0) continue;
    row.byAction.set(spend.action, (row.byAction.get(spend.action) ?? 0) + net);
  }
  for (const row of rows.values()) {
    row.total = [...row.byAction.values()].reduce((sum, credits) => sum + credits, 0);
  }
  for (const bucket of usageByDay) {
    const row = rows.get(bucket.day);
    if (!row) continue;
    const unexplained = bucket.credits - row.total;
    if (unexplained > 0) {
      row.byAction.set('OTHER', (row.byAction.get('OTHER') ?? 0) + unexplained);
      row.total = bucket.credits;
    }
  }
  return [...rows.values()];
}

function svg(name, attributes = {}, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A round axis maximum and step: 0, step, 2·step… ≥ max. */
function niceScale(max, ticks = 4) {
  if (max <= 0) return { top: ticks, step: 1 };
  const rough = max / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= rough) ?? rough;
  return { top: step * Math.ceil(max / step), step };
}

/**
 * Draws `rows` (from usageByDayAndAction) into `elements`: { plot, legend, table, caption }.
 * `width` is the plot's CSS width, so text stays readable on a phone.
 */
export function renderUsageChart(rows, elements, width) {
  const { plot, legend, table, caption } = elements;
  const series = SERIES_ORDER.filter((action) => rows.some((row) => row.byAction.get(action)));
  const total = rows.reduce((sum, row) => sum + row.total, 0);
  const busiest = rows.reduce((best, row) => (row.total > (best?.total ?? 0) ? row : best), undefined);
  const first = rows[0]?.day;
  const last = rows[rows.length - 1]?.day;

  // --- SVG ------------------------------------------------------------------------------------
  const height = 240;
  const margin = { top: 12, right: 8, bottom: 28, left: 48 };
  const plotWidth = Math.max(120, width - margin.left - margin.right);
  const plotHeight = height - margin.top - margin.bottom;
  const { top, step } = niceScale(Math.max(...rows.map((row) => row.total), 0));
  const y = (credits) => margin.top + plotHeight - (credits / top) * plotHeight;
  const band = plotWidth / Math.max(rows.length, 1);
  const barWidth = Math.max(2, Math.min(40, band * 0.7));

  const titleId = 'usage-chart-title';
  const descId = 'usage-chart-desc';
  const root = svg('svg', {
    class: 'chart__svg',
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': `${titleId} ${descId}`,
  });
  root.append(
    svg('title', { id: titleId }, 'Credits spent per day by action'),
    svg(
      'desc',
      { id: descId },
      `Stacked bars, one per day from ${formatLongDay(first)} to ${formatLongDay(last)}. ` +
        `${formatCredits(total)} credits in all` +
        (busiest ? `; the most on ${formatLongDay(busiest.day)} (${formatCredits(busiest.total)} credits)` : '') +
        '. The table "Credits spent per day by action" lists every value.',
    ),
  );

  const grid = svg('g', { class: 'chart__grid', 'aria-hidden': 'true' });
  for (let value = 0; value <= top; value += step) {
    grid.append(
      svg('line', { x1: margin.left, x2: margin.left + plotWidth, y1: y(value), y2: y(value) }),
      svg('text', { x: margin.left - 6, y: y(value), dy: '0.32em', 'text-anchor': 'end' }, formatCredits(value)),
    );
  }
  root.append(grid);

  const labelEvery = Math.max(1, Math.ceil((rows.length * 46) / plotWidth));
  const bars = svg('g', { class: 'chart__bars' });
  const labels = svg('g', { class: 'chart__labels', 'aria-hidden': 'true' });
  rows.forEach((row, index) => {
    const x = margin.left + index * band + (band - barWidth) / 2;
    let stacked = 0;
    for (const action of series) {
      const credits = row.byAction.get(action) ?? 0;
      if (!credits) continue;
      const rect = svg('rect', {
        class: `bar series--${action}`,
        x,
        width: barWidth,
        y: y(stacked + credits),
        height: Math.max(1, y(stacked) - y(stacked + credits)),
        'data-day': row.day,
        'data-action': action,
        'data-credits': credits,
      });
      rect.append(svg('title', {}, `${formatDay(row.day)}: ${actionLabel(action)}, ${formatCredits(credits)} credits`));
      bars.append(rect);
      stacked += credits;
    }
    // Counted from the last day, so today always has its label.
    if ((rows.length - 1 - index) % labelEvery === 0) {
      // A label that would overflow the right edge is right-aligned to it instead.
      const center = margin.left + index * band + band / 2;
      const atEdge = center + 24 > width;
      labels.append(
        svg(
          'text',
          { x: atEdge ? width - 2 : center, y: height - 8, 'text-anchor': atEdge ? 'end' : 'middle' },
          formatDay(row.day),
        ),
      );
    }
  });
  root.append(bars, labels);
  plot.replaceChildren(root);

  // --- Legend ---------------------------------------------------------------------------------
  legend.replaceChildren(
    ...series.map((action) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = `legend__swatch series--${action}`;
      swatch.setAttribute('aria-hidden', 'true');
      item.append(swatch, actionLabel(action));
      return item;
    }),
  );

  // --- Table ----------------------------------------------------------------------------------
  caption.textContent = `Credits spent per day by action, ${formatLongDay(first)} to ${formatLongDay(last)}`;
  const cell = (tag, text, options = {}) => {
    const element = document.createElement(tag);
    element.textContent = text;
    if (options.scope) element.scope = options.scope;
    if (options.numeric) element.className = 'num';
    return element;
  };
  const head = document.createElement('tr');
  head.append(
    cell('th', 'Day', { scope: 'col' }),
    ...series.map((action) => cell('th', actionLabel(action), { scope: 'col', numeric: true })),
    cell('th', 'Total', { scope: 'col', numeric: true }),
  );
  table.tHead.replaceChildren(head);
  table.tBodies[0].replaceChildren(
    ...rows
      .filter((row) => row.total > 0)
      .map((row) => {
        const tr = document.createElement('tr');
        tr.append(
          cell('th', formatLongDay(row.day), { scope: 'row' }),
          ...series.map((action) => cell('td', formatCredits(row.byAction.get(action) ?? 0), { numeric: true })),
          cell('td', formatCredits(row.total), { numeric: true }),
        );
        return tr;
      }),
  );
  const foot = document.createElement('tr');
  foot.append(
    cell('th', 'Total', { scope: 'row' }),
    ...series.map((action) =>
      cell('td', formatCredits(rows.reduce((sum, row) => sum + (row.byAction.get(action) ?? 0), 0)), { numeric: true }),
    ),
    cell('td', formatCredits(total), { numeric: true }),
  );
  table.tFoot.replaceChildren(foot);
}
