// The last 5 minutes of publishes, deliveries (per second, left axis) and connections (right
// axis), one point per stats report, drawn with uPlot.
import uPlot from '/admin/vendor/uplot.js';

const WINDOW_S = 300;

function cssColor(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

const compact = (value) => (value == null ? '–' : value >= 10000 ? `${Math.round(value / 1000)}k` : value >= 1000 ? `${(value / 1000).toFixed(1)}k` : String(Math.round(value * 10) / 10));

export class StatsChart {
  constructor(element) {
    this.element = element;
    this.data = [[], [], [], []];
    const muted = cssColor('--muted', '#6b7384');
    const grid = cssColor('--border', '#e1e4ea');
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '12px system-ui, sans-serif' };
    this.plot = new uPlot(
      {
        width: this.width(),
        height: this.height(),
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true, auto: false }, rate: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] }, conn: { range: (_u, _min, max) => [0, Math.max(5, max * 1.15)] } },
        series: [
          {},
          { label: 'published/s', scale: 'rate', stroke: cssColor('--accent', '#4f46e5'), width: 2, fill: 'rgba(79, 70, 229, 0.08)', points: { show: false } },
          { label: 'delivered/s', scale: 'rate', stroke: cssColor('--ok', '#16a34a'), width: 2, points: { show: false } },
          { label: 'connections', scale: 'conn', stroke: cssColor('--warn', '#d97706'), width: 2, dash: [6, 4], points: { show: false } },
        ],
        axes: [
          { ...axis },
          { ...axis, scale: 'rate', size: 48, values: (_u, ticks) => ticks.map(compact) },
          { ...axis, scale: 'conn', side: 1, size: 48, grid: { show: false }, values: (_u, ticks) => ticks.map(compact) },
        ],
      },
      this.data,
      element,
    );
    this.plot.setScale('x', { min: Date.now() / 1000 - 60, max: Date.now() / 1000 });
    new ResizeObserver(() => this.plot.setSize({ width: this.width(), height: this.height() })).observe(element);
  }

  width() {
    return Math.max(240, this.element.clientWidth);
  }

  height() {
    return this.element.clientWidth < 600 ? 180 : 240;
  }

  /** Adds one report's totals at `atMs`, dropping what is older than the window. */
  push(totals, atMs) {
    const [x, published, delivered, connections] = this.data;
    x.push(atMs / 1000);
    published.push(totals.publishedPerSecond);
    delivered.push(totals.deliveredPerSecond);
    connections.push(totals.connections);
    while (x.length > 0 && x[0] < atMs / 1000 - WINDOW_S) for (const column of this.data) column.shift();
    this.plot.setData(this.data);
    // At least the last minute: one report alone would otherwise stretch the axis over years.
    this.plot.setScale('x', { min: Math.min(x[0], atMs / 1000 - 60), max: atMs / 1000 });
    this.element.dataset.points = String(x.length);
  }
}
