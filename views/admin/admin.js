// The ssehub dashboard: plain ES modules, no build step. Asks for ADMIN_TOKEN once per tab,
// then follows /api/stats/stream and refreshes the busiest channels every few seconds.
import { forgetToken, request, storedToken, storeToken } from './api.js';
import { StatsChart } from './chart.js';
import { Inspector } from './inspector.js';
import { followStats } from './stats-feed.js';

const CHANNELS_REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const formatRate = (value) => number.format(value);

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function since(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 90) return `${seconds}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

class Dashboard {
  constructor() {
    this.chart = null;
    this.inspector = null;
    this.stopFeed = null;
    this.channelsTimer = null;
    $('gate-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.signIn($('token-input').value.trim());
    });
    $('sign-out').addEventListener('click', () => this.signOut('Token forgotten.'));
    $('channels-filter').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.refreshChannels();
    });
  }

  start() {
    if (storedToken() === null) this.showGate('');
    else this.showDashboard();
  }

  async signIn(token) {
    if (token.length < 16) {
      this.showGate('The token has at least 16 characters.');
      return;
    }
    storeToken(token);
    try {
      await request('GET', '/api/stats');
    } catch (error) {
      forgetToken();
      this.showGate(error.status === 401 ? 'The hub does not accept this token.' : `The hub answered: ${error.message}`);
      return;
    }
    $('token-input').value = '';
    this.showDashboard();
  }

  signOut(message) {
    forgetToken();
    this.stopFeed?.();
    clearInterval(this.channelsTimer);
    this.showGate(message);
  }

  showGate(message) {
    $('dashboard').hidden = true;
    $('sign-out').hidden = true;
    $('gate').hidden = false;
    $('gate-error').textContent = message;
    $('gate-error').hidden = message === '';
    this.setState('offline', 'Signed out');
    $('token-input').focus();
  }

  showDashboard() {
    $('gate').hidden = true;
    $('dashboard').hidden = false;
    $('sign-out').hidden = false;
    this.chart ??= new StatsChart($('chart'));
    this.inspector ??= new Inspector();
    this.stopFeed = followStats(
      (report) => this.render(report),
      (state) => {
        if (state === 'unauthorized') this.signOut('The hub no longer accepts this token.');
        else this.setState(state === 'connected' ? 'connected' : state, state === 'connected' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…');
      },
    );
    void this.refreshChannels();
    this.channelsTimer = setInterval(() => void this.refreshChannels(), CHANNELS_REFRESH_MS);
  }

  setState(state, text) {
    $('status').dataset.state = state;
    $('status-text').textContent = text;
  }

  render(report) {
    const { totals, instances } = report;
    $('total-connections').textContent = number.format(totals.connections);
    $('total-connections').dataset.value = String(totals.connections);
    $('total-channels').textContent = number.format(totals.channels);
    $('total-published').textContent = formatRate(totals.publishedPerSecond);
    $('total-delivered').textContent = formatRate(totals.deliveredPerSecond);
    $('total-dropped').textContent = number.format(totals.droppedSlow);
    $('total-gaps').textContent = number.format(totals.gapsRepaired);
    $('total-lag').textContent = `${number.format(totals.eventLoopLagMs)} ms`;
    $('total-lag').dataset.level = totals.eventLoopLagMs > 200 ? 'bad' : totals.eventLoopLagMs > 50 ? 'warn' : 'ok';
    $('instance-count').textContent = String(instances.length);
    const fingerprints = new Set(instances.map((instance) => instance.configFingerprint));
    $('instances').replaceChildren(
      ...instances.map((instance) => {
        const row = document.createElement('tr');
        const broker = cell(instance.broker, `broker broker-${instance.broker}`);
        const config = `${instance.version} · ${instance.configFingerprint || 'no config'}`;
        row.append(
          cell(instance.id, 'mono'),
          broker,
          cell(number.format(instance.connections), 'num'),
          cell(formatRate(instance.publishedPerSecond), 'num'),
          cell(formatRate(instance.deliveredPerSecond), 'num'),
          cell(`${instance.eventLoopLagMs} ms`, 'num'),
          cell(since(instance.startedAt)),
          cell(config, fingerprints.size > 1 ? 'mono mismatch' : 'mono'),
        );
        return row;
      }),
    );
    this.chart.push(totals, Date.now());
  }

  async refreshChannels() {
    const pattern = $('channels-pattern').value.trim() || '**';
    try {
      const report = await request('GET', `/api/channels?limit=12&pattern=${encodeURIComponent(pattern)}`);
      $('channels-error').hidden = true;
      const busiest = report.channels[0]?.connections ?? 1;
      $('channels').replaceChildren(...report.channels.map((entry) => this.channelRow(entry, busiest)));
      $('channels-empty').hidden = report.channels.length > 0;
    } catch (error) {
      if (error.status === 401) {
        this.signOut('The hub no longer accepts this token.');
        return;
      }
      $('channels-error').textContent = error.message;
      $('channels-error').hidden = false;
    }
  }

  channelRow(entry, busiest) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'channel-row';
    button.dataset.testid = 'channel-row';
    const name = document.createElement('span');
    name.className = 'channel-name';
    name.textContent = entry.channel;
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.className = 'bar-fill';
    // A width through the CSSOM, which the page's CSP allows (no inline style attribute).
    fill.style.width = `${Math.max(4, Math.round((entry.connections / busiest) * 100))}%`;
    bar.append(fill);
    const count = document.createElement('span');
    count.className = 'channel-count';
    count.textContent = number.format(entry.connections);
    button.append(name, bar, count);
    button.addEventListener('click', () => this.inspector.open(entry.channel));
    item.append(button);
    return item;
  }
}

new Dashboard().start();
