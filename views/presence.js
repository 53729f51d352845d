'use strict';

// Who is online in the chat: the count in the top bar opens the list. Loaded from
// GET /channels/chat/presence whenever the stream (re)opens, then kept current by the stream's
// hub.join / hub.leave events. Names are only ever placed with textContent.
// app.js uses it through window.ChatPresence: reload() on each (re)connect of its stream,
// joined(data) / left(data) with each hub.join / hub.leave signal's data text, and
// setOwnName(name) when the chat name changes.
(() => {
  const PRESENCE_URL = '/channels/chat/presence';
  const $ = (id) => document.getElementById(id);
  const view = {
    toggle: $('online-toggle'),
    count: $('online-count'),
    panel: $('online-panel'),
    list: $('online-list'),
    empty: $('online-empty'),
    anonymous: $('online-anonymous'),
    announcer: $('presence-announcer'),
  };

  const state = {
    /** sub → connections (1 when only known from a hub.join). */
    members: new Map(),
    /** Streams without a name, as of the last load. */
    anonymous: 0,
    ownName: null,
    /** Joins and leaves heard while a load is in flight, replayed over its answer. */
    pending: null,
    loads: 0,
  };

  const collator = new Intl.Collator(undefined, { sensitivity: 'base' });

  function render() {
    const names = [...state.members.keys()].sort(collator.compare);
    view.count.textContent = `${names.length} online`;
    view.list.replaceChildren(
      ...names.map((name) => {
        const item = document.createElement('li');
        item.className = 'online-member';
        item.dataset.testid = 'online-member';
        item.dataset.name = name;
        const label = document.createElement('span');
        label.className = 'online-name';
        label.textContent = name;
        item.append(label);
        if (name === state.ownName) {
          const you = document.createElement('span');
          you.className = 'online-you';
          you.textContent = '(you)';
          item.append(' ', you);
        }
        return item;
      }),
    );
    view.empty.hidden = names.length > 0;
    view.anonymous.hidden = state.anonymous <= 0;
    view.anonymous.textContent =
      state.anonymous === 1 ? '1 more reader without a name' : `${state.anonymous} more readers without a name`;
  }

  function announce(text) {
    // Replacing the text of an aria-live region makes screen readers read it once.
    view.announcer.textContent = text;
  }

  function apply(signal) {
    if (signal.kind === 'join') state.members.set(signal.sub, state.members.get(signal.sub) ?? 1);
    else state.members.delete(signal.sub);
  }

  function onSignal(kind, dataText) {
    let data;
    try {
      data = JSON.parse(dataText);
    } catch {
      return;
    }
    if (data === null || typeof data.sub !== 'string') return;
    const signal = { kind, sub: data.sub };
    if (state.pending !== null) state.pending.push(signal);
    apply(signal);
    render();
    if (signal.sub !== state.ownName) announce(`${signal.sub} ${kind === 'join' ? 'joined' : 'left'}`);
  }

  async function load() {
    const seq = ++state.loads;
    state.pending = [];
    try {
      const response = await fetch(PRESENCE_URL, { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (!response.ok) return;
      const body = await response.json();
      // A later load started meanwhile: its answer is the newer one.
      if (seq !== state.loads) return;
      state.members = new Map();
      let named = 0;
      for (const member of Array.isArray(body.members) ? body.members : []) {
        if (typeof member.sub !== 'string') continue;
        const connections = Number(member.connections) || 1;
        state.members.set(member.sub, connections);
        named += connections;
      }
      state.anonymous = Math.max(0, (Number(body.connections) || 0) - named);
      for (const signal of state.pending) apply(signal);
      render();
    } catch {
      // The next (re)connect loads again; the signals keep the list roughly right meanwhile.
    } finally {
      if (seq === state.loads) state.pending = null;
    }
  }

  function setOpen(open) {
    view.panel.hidden = !open;
    view.toggle.setAttribute('aria-expanded', String(open));
  }

  view.toggle.addEventListener('click', () => setOpen(view.panel.hidden));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !view.panel.hidden) {
      setOpen(false);
      view.toggle.focus();
    }
  });
  document.addEventListener('click', (event) => {
    if (!view.panel.hidden && !view.panel.contains(event.target) && !view.toggle.contains(event.target)) setOpen(false);
  });

  window.ChatPresence = {
    // Call on each (re)connect, and with each signal's data text.
    reload: () => void load(),
    joined: (dataText) => onSignal('join', dataText),
    left: (dataText) => onSignal('leave', dataText),
    setOwnName(name) {
      state.ownName = name;
      render();
    },
  };
  render();
})();
