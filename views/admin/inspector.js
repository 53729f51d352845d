// The channel inspector: newest history, live tail (@ssehub/client with the admin token in the
// Authorization header), a test publish whose refusals are shown next to the field, presence,
// and disconnecting a member. Everything from the hub is shown as text, never as HTML.
import { SseHubClient } from '/client/ssehub-client.js';
import { authHeaders, channelPath, HubError, request } from './api.js';

const MAX_EVENTS = 100;
const CHANNEL = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function showError(node, message) {
  node.textContent = message;
  node.hidden = message === '';
}

function compactJson(value) {
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

export class Inspector {
  constructor() {
    this.client = new SseHubClient({ headers: () => authHeaders(), credentials: 'omit' });
    this.channel = null;
    this.subscription = null;
    $('inspect-form').addEventListener('submit', (event) => {
      event.preventDefault();
      this.open($('inspect-channel').value.trim());
    });
    $('publish-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.publish();
    });
    $('delete-history').addEventListener('click', () => void this.deleteHistory());
  }

  /** Shows `channel` (closing the previous one's tail). */
  open(channel) {
    if (!CHANNEL.test(channel)) {
      showError($('inspect-error'), 'A channel name is 1–64 letters, digits and _ . : - (starting with a letter or digit).');
      return;
    }
    showError($('inspect-error'), '');
    $('inspect-channel').value = channel;
    this.subscription?.close();
    this.channel = channel;
    $('inspector-empty').hidden = true;
    $('inspector-body').hidden = false;
    $('events').replaceChildren();
    $('publish-result').textContent = '';
    void this.loadHistory(channel).then(() => this.tail(channel));
    void this.loadPresence();
  }

  async loadHistory(channel) {
    try {
      const page = await request('GET', `${channelPath(channel)}/events?limit=20`);
      if (channel !== this.channel) return;
      for (const item of page.events) this.addEvent({ id: item.id, event: item.event, data: item.data }, 'history');
    } catch (error) {
      this.addNote(`history: ${error.message}`);
    }
  }

  tail(channel) {
    if (channel !== this.channel) return;
    const subscription = this.client.subscribe(channel, { presence: true });
    this.subscription = subscription;
    subscription.on('state', (state) => {
      if (this.subscription === subscription) $('tail-state').textContent = state === 'open' ? '· live' : `· ${state}`;
    });
    subscription.on('event', (item) => this.addEvent(item, 'live'));
    subscription.on('gap', () => this.addNote('gap: events were lost from the history'));
    subscription.on('presence', () => void this.loadPresence());
    subscription.on('error', (error) => this.addNote(`live tail stopped: ${error.message}`));
  }

  addEvent(item, origin) {
    const list = $('events');
    const row = element('li', `event-row ${origin}`);
    row.dataset.testid = 'event-row';
    row.append(element('span', 'event-id', item.id ?? '–'), element('span', 'event-name', item.event), element('code', 'event-data', compactJson(item.data)));
    list.prepend(row);
    while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  }

  addNote(text) {
    $('events').prepend(element('li', 'event-row note', text));
  }

  async publish() {
    const eventName = $('publish-event').value.trim();
    showError($('publish-event-error'), '');
    const dataError = $('publish-data-error');
    dataError.replaceChildren();
    dataError.hidden = true;
    $('publish-result').textContent = '';
    let data;
    try {
      data = JSON.parse($('publish-data').value);
    } catch (error) {
      this.dataErrors([{ message: `not valid JSON: ${error.message}` }]);
      return;
    }
    try {
      const body = eventName === '' ? { data } : { event: eventName, data };
      const result = await request('POST', `${channelPath(this.channel)}/events`, body);
      $('publish-result').textContent = result && result.id ? `published as id ${result.id}` : 'published';
    } catch (error) {
      if (!(error instanceof HubError)) throw error;
      if (error.code === 'invalid_event' && /event/i.test(error.message) && !/data/.test(error.message)) {
        showError($('publish-event-error'), error.message);
      } else if (error.code === 'unknown_event') {
        showError($('publish-event-error'), error.message);
      } else {
        this.dataErrors(error.details.length > 0 ? error.details : [{ message: `${error.code}: ${error.message}` }]);
      }
    }
  }

  dataErrors(details) {
    const list = $('publish-data-error');
    list.replaceChildren(...details.map((detail) => element('li', '', detail.path ? `${detail.path}: ${detail.message}` : detail.message)));
    list.hidden = false;
  }

  async loadPresence() {
    const channel = this.channel;
    const members = $('members');
    try {
      const presence = await request('GET', `${channelPath(channel)}/presence`);
      if (channel !== this.channel) return;
      $('presence-count').textContent = `· ${presence.connections} connection${presence.connections === 1 ? '' : 's'}`;
      members.replaceChildren(...presence.members.map((member) => this.memberRow(member)));
      $('members-note').textContent = presence.members.length === 0 ? 'No signed-in member (anonymous streams are counted only).' : '';
    } catch (error) {
      if (channel !== this.channel) return;
      members.replaceChildren();
      $('presence-count').textContent = '';
      $('members-note').textContent = error.code === 'presence_disabled' ? 'Presence is not tracked on this channel (PRESENCE_CHANNELS).' : `presence: ${error.message}`;
    }
  }

  memberRow(member) {
    const row = element('li', 'member');
    row.dataset.testid = 'member';
    const name = typeof member.info?.name === 'string' ? `${member.info.name} (${member.sub})` : member.sub;
    row.append(element('span', 'member-name', name), element('span', 'muted', `${member.connections}×`));
    const button = element('button', 'secondary small', 'Disconnect');
    button.type = 'button';
    button.dataset.testid = 'disconnect-member';
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await request('POST', '/api/disconnect', { sub: member.sub, channel: this.channel, reconnect: false, reason: 'disconnected from the dashboard' });
        button.textContent = 'Disconnected';
      } catch (error) {
        button.disabled = false;
        this.addNote(`disconnect: ${error.message}`);
      }
    });
    row.append(button);
    return row;
  }

  async deleteHistory() {
    if (!window.confirm(`Delete the whole history of "${this.channel}"? Resuming clients will get hub.gap.`)) return;
    try {
      await request('DELETE', `/api/channels/${encodeURIComponent(this.channel)}/history`);
      this.addNote('history deleted');
    } catch (error) {
      this.addNote(`delete: ${error.message}`);
    }
  }
}
