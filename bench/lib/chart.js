// A hand-written SVG: p99 latency (left) and delivered events/s (right) against the number of
// clients, for hub, baseline and floor, one line per publish rate. Both axes logarithmic.
'use strict';

const WIDTH = 960;
const HEIGHT = 450;
const PANEL = { width: 400, height: 280, top: 60, left: [70, 550] };
const COLORS = { hub: '#d6336c', baseline: '#1c7ed6', floor: '#2f9e44' };

const escapeXml = (text) => String(text).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]);

function logScale(min, max, size, invert) {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  return (value) => {
    const share = (Math.log10(value) - lo) / (hi - lo || 1);
    return invert ? size - share * size : share * size;
  };
}

function decadeTicks(min, max) {
  const ticks = [];
  for (let exponent = Math.floor(Math.log10(min)); exponent <= Math.ceil(Math.log10(max)); exponent++) ticks.push(10 ** exponent);
  return ticks;
}

function tickLabel(value) {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(value);
}

function panel(parts, left, title, yLabel, series, clientCounts) {
  const all = series.flatMap((line) => line.points.map((point) => point.y)).filter((y) => y > 0);
  if (all.length === 0) return;
  const yTicks = decadeTicks(Math.min(...all), Math.max(...all));
  const yMin = yTicks[0];
  const yMax = yTicks[yTicks.length - 1];
  const xMin = Math.min(...clientCounts);
  const xMax = Math.max(...clientCounts);
  const x = xMin === xMax ? () => PANEL.width / 2 : logScale(xMin, xMax, PANEL.width, false);
  const y = logScale(yMin, yMax, PANEL.height, true);
  const top = PANEL.top;
  parts.push(`<g transform="translate(${left},${top})">`);
  parts.push(`<text x="${PANEL.width / 2}" y="-28" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  parts.push(`<rect width="${PANEL.width}" height="${PANEL.height}" fill="none" stroke="#999"/>`);
  for (const tick of yTicks) {
    parts.push(`<line x1="0" x2="${PANEL.width}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="-6" y="${(y(tick) + 4).toFixed(1)}" text-anchor="end" font-size="11">${tickLabel(tick)}</text>`);
  }
  for (const count of clientCounts) {
    parts.push(`<line x1="${x(count).toFixed(1)}" x2="${x(count).toFixed(1)}" y1="0" y2="${PANEL.height}" stroke="#eee"/>`);
    parts.push(`<text x="${x(count).toFixed(1)}" y="${PANEL.height + 16}" text-anchor="middle" font-size="11">${tickLabel(count)}</text>`);
  }
  parts.push(`<text x="${PANEL.width / 2}" y="${PANEL.height + 34}" text-anchor="middle" font-size="12">clients on one channel</text>`);
  parts.push(`<text transform="translate(-50,${PANEL.height / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeXml(yLabel)}</text>`);
  for (const line of series) {
    const points = line.points.filter((point) => point.y > 0);
    if (points.length === 0) continue;
    const d = points.map((point, index) => `${index ? 'L' : 'M'}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`).join(' ');
    const dash = line.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"${dash}/>`);
    for (const point of points) {
      parts.push(`<circle cx="${x(point.x).toFixed(1)}" cy="${y(point.y).toFixed(1)}" r="3.5" fill="${line.color}"><title>${escapeXml(`${line.label}, ${point.x} clients: ${point.y.toFixed(2)}`)}</title></circle>`);
    }
  }
  parts.push('</g>');
}

/** The SVG document for the fan-out results (median of the rounds per point). */
function chart(results, medianOf) {
  const fanouts = Object.values(results).filter((entry) => entry.step.fanout);
  const clientCounts = [...new Set(fanouts.map((entry) => entry.step.fanout.clients))].sort((a, b) => a - b);
  const rates = [...new Set(fanouts.map((entry) => entry.step.fanout.rate))].sort((a, b) => a - b);
  // Results from before the floor existed have no floor runs: their chart keeps two servers.
  const kinds = ['floor', 'baseline', 'hub'].filter((kind) => fanouts.some((entry) => (entry[kind] ?? []).length > 0));
  const seriesOf = (metric) =>
    kinds.flatMap((kind) =>
      rates.map((rate, index) => ({
        label: `${kind}, ${rate} ev/s`,
        color: COLORS[kind],
        dashed: index > 0,
        points: fanouts
          .filter((entry) => entry.step.fanout.rate === rate)
          .map((entry) => ({ x: entry.step.fanout.clients, y: medianOf(entry[kind] ?? [], metric) }))
          .filter((point) => point.y !== null)
          .sort((a, b) => a.x - b.x),
      })),
    );
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
  ];
  if (clientCounts.length === 0) {
    parts.push('<text x="20" y="40">no fan-out results</text></svg>');
    return parts.join('\n');
  }
  panel(parts, PANEL.left[0], 'p99 latency, publish → receipt', 'ms (log)', seriesOf('p99'), clientCounts);
  panel(parts, PANEL.left[1], 'delivered events per second', 'events/s (log)', seriesOf('eventsPerSecond'), clientCounts);
  // One column per server, one row per rate.
  const legend = kinds.flatMap((kind, column) => rates.map((rate, row) => ({ kind, rate, dashed: row > 0, column, row })));
  legend.forEach((entry) => {
    const lx = 70 + entry.column * 300;
    const ly = HEIGHT - 14 - (rates.length - 1 - entry.row) * 18;
    parts.push(`<line x1="${lx}" x2="${lx + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[entry.kind]}" stroke-width="2"${entry.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${lx + 36}" y="${ly}" font-size="12">${entry.kind}, ${entry.rate} ev/s</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

module.exports = { chart };
