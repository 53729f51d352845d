'use strict';

// The ssehub chat page: plain browser JavaScript, no build step. Message text is only ever
// placed with textContent, never parsed as HTML, and the page's CSP allows no inline code.
// It streams with @ssehub/client, which the hub serves as a module: one connection for all the
// tabs of the chat, ids checked (repeats dropped, holes filled from history), backoff and
// immediate retry when the browser is back online.
(() => {
  const HISTORY_URL = '/channels/chat/events';
  const HISTORY_LIMIT = 100;
  const CLIENT_MODULE = '/client/ssehub-client.js';
  /** The online list (views/presence.js), when the page has it. */
  const presence = () => window.ChatPresence;
  const RETRY_MIN_MS = 1000;
  const RETRY_MAX_MS = 30000;
  const AVATAR_HUES = 8;
  const ID_PATTERN = /^[0-9]{1,16}$/;

  const $ = (id) => document.getElementById(id);
  const view = {
    status: $('status'),
    statusText: $('status-text'),
    loginForm: $('login-form'),
    nameInput: $('name-input'),
    joinButton: $('join-button'),
    cancelName: $('cancel-name'),
    whoami: $('whoami'),
    currentName: $('current-name'),
    changeName: $('change-name'),
    logoutForm: $('logout-form'),
    conversation: $('conversation'),
    empty: $('empty'),
    list: $('messages'),
    notice: $('notice'),
    sendForm: $('send-form'),
    messageInput: $('message-input'),
    sendButton: $('send-button'),
  };

  const state = {
    name: null,
    /** Ids of the messages in the list, so a replayed or reloaded message is shown once. */
    shownIds: new Set(),
    /** Ids this page published, so they are marked as ours even under a shared name. */
    ownIds: new Set(),
    newestId: null,
    /** The @ssehub/client subscription to the chat channel. */
    subscription: null,
    /** Set once a connection opened or an attempt failed: later attempts are reconnects. */
    triedBefore: false,
    retryTimer: null,
    retryDelayMs: RETRY_MIN_MS,
    sending: false,
  };

  // Ids are decimal strings below 2^53: BigInt compares them exactly. A message sorts by its id,
  // a gap marker just before the first id still available.
  const messageKey = (id) => BigInt(id) * 2n + 1n;
  const gapKey = (id) => BigInt(id) * 2n;

  function isNewer(id, than) {
    return than === null || BigInt(id) > BigInt(than);
  }

  function insertSorted(item, key) {
    item.dataset.sortKey = key.toString();
    let before = null;
    // New items are almost always the newest: walk back from the end.
    for (let node = view.list.lastElementChild; node !== null; node = node.previousElementSibling) {
      if (BigInt(node.dataset.sortKey) < key) break;
      before = node;
    }
    view.list.insertBefore(item, before);
  }

  const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
  const dayTimeFormat = new Intl.DateTimeFormat(undefined, {
    month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
  const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

  function hueOf(name) {
    let hash = 0;
    for (const char of name) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
    return hash % AVATAR_HUES;
  }

  /** Whatever a publisher sent on the channel, as {user, text, ts}. */
  function readMessage(data) {
    const value = typeof data === 'object' && data !== null ? data : {};
    const text = typeof value.text === 'string' ? value.text : typeof data === 'string' ? data : JSON.stringify(data);
    const user = typeof value.user === 'string' && value.user.trim() !== '' ? value.user : 'unknown';
    const time = typeof value.ts === 'string' ? new Date(value.ts) : null;
    return { user, text, time: time !== null && !Number.isNaN(time.getTime()) ? time : null };
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function timeElement(time) {
    const sameDay = time.toDateString() === new Date().toDateString();
    const node = element('time', 'message-time', (sameDay ? timeFormat : dayTimeFormat).format(time));
    node.dateTime = time.toISOString();
    node.title = fullFormat.format(time);
    return node;
  }

  function isOwn(id, user) {
    return state.ownIds.has(id) || (state.name !== null && user === state.name);
  }

  function markOwnership(item) {
    const own = isOwn(item.dataset.id, item.dataset.user);
    item.classList.toggle('own', own);
    item.dataset.own = String(own);
  }

  function buildMessage(id, message) {
    const item = element('li', 'message');
    item.dataset.id = id;
    item.dataset.user = message.user;
    item.dataset.testid = 'message';

    const avatar = element('span', `avatar hue-${hueOf(message.user)}`, [...message.user][0].toUpperCase());
    avatar.setAttribute('aria-hidden', 'true');
    const bubble = element('div', 'bubble');
    const meta = element('p', 'message-meta');
    meta.append(element('span', 'message-author', message.user));
    if (message.time !== null) meta.append(' ', timeElement(message.time));
    bubble.append(meta, element('p', 'message-text', message.text));
    item.append(avatar, bubble);
    markOwnership(item);
    return item;
  }

  function isScrolledToBottom() {
    const c = view.conversation;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 48;
  }

  function scrollToBottom() {
    view.conversation.scrollTop = view.conversation.scrollHeight;
  }

  /** Adds one message in id order, unless its id is already shown. */
  function showMessage(id, data) {
    if (typeof id !== 'string' || !ID_PATTERN.test(id) || state.shownIds.has(id)) return;
    const wasAtBottom = isScrolledToBottom();
    state.shownIds.add(id);
    const item = buildMessage(id, readMessage(data));
    insertSorted(item, messageKey(id));
    if (isNewer(id, state.newestId)) state.newestId = id;
    view.empty.hidden = true;
    if (wasAtBottom || item.classList.contains('own')) scrollToBottom();
  }

  /** Marks, in id order, where messages were lost because the history no longer held them. */
  function showGap(lastEventId, firstAvailableId) {
    const key = ID_PATTERN.test(firstAvailableId ?? '')
      ? gapKey(firstAvailableId)
      : gapKey((BigInt(state.newestId ?? lastEventId) + 1n).toString());
    const existing = [...view.list.querySelectorAll('.gap')].some((node) => node.dataset.sortKey === key.toString());
    if (existing) return;
    const item = element('li', 'gap', 'Some messages from while you were away are no longer available.');
    item.dataset.testid = 'gap';
    insertSorted(item, key);
    scrollToBottom();
  }

  const STATUS_TEXT = {
    connecting: 'Connecting…',
    connected: 'Connected',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
  };

  function setStatus(name) {
    if (view.status.dataset.state === name) return;
    view.status.dataset.state = name;
    view.statusText.textContent = STATUS_TEXT[name];
  }

  function updateStatus() {
    if (!navigator.onLine) setStatus('offline');
    else if (state.subscription !== null && state.subscription.state === 'open') setStatus('connected');
    else setStatus(state.triedBefore ? 'reconnecting' : 'connecting');
  }

  function showNotice(text) {
    view.notice.textContent = text;
    view.notice.hidden = false;
  }

  function clearNotice() {
    view.notice.hidden = true;
    view.notice.textContent = '';
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    const payload = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const message = payload && payload.error && payload.error.message;
      throw new Error(typeof message === 'string' ? message : `the server answered ${response.status}`);
    }
    return payload;
  }

  async function readHistory(query) {
    const response = await fetch(`${HISTORY_URL}?${query}`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) throw new Error(`history: the server answered ${response.status}`);
    const { events, more } = await response.json();
    return { events: Array.isArray(events) ? events : [], more: more === true };
  }

  /**
   * Shows the newest HISTORY_LIMIT messages. An answer may stop early at the hub's
   * HISTORY_PAGE_BYTES (fewer events than asked, `more` true): then it reads on after the
   * newest one shown while the hub says more remain, up to the same window; the stream, which
   * starts from the newest id shown, brings whatever comes after.
   */
  async function loadHistory() {
    const wasAtBottom = isScrolledToBottom();
    let page = await readHistory(`limit=${HISTORY_LIMIT}`);
    let read = 0;
    for (;;) {
      for (const event of page.events) {
        if (event.event === 'message') showMessage(event.id, event.data);
      }
      read += page.events.length;
      if (!page.more || page.events.length === 0 || read >= HISTORY_LIMIT) break;
      const last = page.events[page.events.length - 1].id;
      page = await readHistory(`after=${encodeURIComponent(last)}&limit=${HISTORY_LIMIT - read}`);
    }
    if (wasAtBottom) scrollToBottom();
  }

  function closeStream() {
    if (state.subscription !== null) state.subscription.close();
    state.subscription = null;
    clearTimeout(state.retryTimer);
    state.retryTimer = null;
  }

  /**
   * Streams the chat from the newest message shown. The client reconnects by itself, from the
   * last id it handled; only a failure it gives up on (a 4xx) brings us back here, with backoff.
   */
  async function openStream() {
    closeStream();
    const { SseHubClient } = await import(CLIENT_MODULE);
    const subscription = new SseHubClient().subscribe('chat', {
      cursor: `chat=${state.newestId ?? '0'}`,
      share: 'tabs',
      backoff: { maxMs: RETRY_MAX_MS },
    });
    state.subscription = subscription;
    subscription.on('state', (connection) => {
      if (connection === 'open') {
        state.triedBefore = true;
        state.retryDelayMs = RETRY_MIN_MS;
        presence()?.reload();
      } else if (connection === 'reconnecting') {
        state.triedBefore = true;
      }
      updateStatus();
    });
    subscription.on('event', (item) => {
      if (item.event === 'message') showMessage(item.id, item.data);
    });
    subscription.on('presence', (item) => {
      const signal = JSON.stringify({ channel: item.channel, sub: item.sub, info: item.info });
      if (item.action === 'join') presence()?.joined(signal);
      else presence()?.left(signal);
    });
    subscription.on('gap', (item) => {
      showGap(item.lastEventId ?? state.newestId ?? '0', item.firstAvailableId);
    });
    subscription.on('error', () => {
      if (subscription !== state.subscription) return;
      state.subscription = null;
      state.triedBefore = true;
      scheduleStart();
      updateStatus();
    });
    updateStatus();
  }

  /** Loads the history (once), then streams; on failure tries again later, backing off. */
  async function start() {
    state.retryTimer = null;
    try {
      if (state.newestId === null) await loadHistory();
      await openStream();
    } catch {
      state.triedBefore = true;
      scheduleStart();
      updateStatus();
    }
  }

  function scheduleStart() {
    clearTimeout(state.retryTimer);
    const delay = state.retryDelayMs;
    state.retryDelayMs = Math.min(delay * 2, RETRY_MAX_MS);
    state.retryTimer = setTimeout(() => void start(), delay + Math.random() * delay * 0.3);
  }

  window.addEventListener('offline', () => updateStatus());
  window.addEventListener('online', () => {
    // The client retries at once by itself; only a stream we gave up on is started again here.
    if (state.subscription === null && state.retryTimer !== null) {
      clearTimeout(state.retryTimer);
      state.retryDelayMs = RETRY_MIN_MS;
      void start();
    }
    updateStatus();
  });

  function setName(name) {
    state.name = name;
    view.currentName.textContent = name ?? '';
    view.whoami.hidden = name === null;
    view.loginForm.hidden = name !== null;
    view.cancelName.hidden = true;
    view.joinButton.textContent = 'Join';
    view.messageInput.disabled = name === null;
    view.sendButton.disabled = name === null;
    view.messageInput.placeholder = name === null ? 'Pick a name to start chatting' : 'Write a message…';
    for (const item of view.list.querySelectorAll('.message')) markOwnership(item);
    presence()?.setOwnName(name);
  }

  /** The stream's name in presence is the session's at connect: reconnect so others see the new one. */
  function restreamAsNewName() {
    if (state.subscription !== null) void openStream();
  }

  async function loadName() {
    try {
      const response = await fetch('/me', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      const { name } = await response.json();
      setName(typeof name === 'string' ? name : null);
    } catch {
      setName(null);
    }
  }

  view.loginForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = view.nameInput.value.trim();
    if (name === '') return;
    postJson('/login', { name })
      .then((body) => {
        clearNotice();
        setName(body.name);
        restreamAsNewName();
        view.messageInput.focus();
      })
      .catch((error) => showNotice(`Could not use that name: ${error.message}`));
  });

  view.changeName.addEventListener('click', () => {
    view.nameInput.value = state.name ?? '';
    view.whoami.hidden = true;
    view.loginForm.hidden = false;
    view.cancelName.hidden = false;
    view.joinButton.textContent = 'Save';
    view.nameInput.focus();
    view.nameInput.select();
  });

  view.nameInput.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !view.cancelName.hidden) view.cancelName.click();
  });

  view.cancelName.addEventListener('click', () => {
    setName(state.name);
    view.changeName.focus();
  });

  view.logoutForm.addEventListener('submit', (event) => {
    event.preventDefault();
    postJson('/logout', {})
      .then(() => {
        clearNotice();
        view.nameInput.value = '';
        setName(null);
        restreamAsNewName();
        view.nameInput.focus();
      })
      .catch((error) => showNotice(`Could not log out: ${error.message}`));
  });

  view.messageInput.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      view.sendForm.requestSubmit();
    }
  });

  view.sendForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const message = view.messageInput.value;
    if (message.trim() === '' || state.sending) return;
    state.sending = true;
    view.sendButton.disabled = true;
    postJson('/post', { message })
      .then((body) => {
        clearNotice();
        state.ownIds.add(body.id);
        const item = ID_PATTERN.test(body.id) ? view.list.querySelector(`.message[data-id="${body.id}"]`) : null;
        if (item !== null) markOwnership(item);
        view.messageInput.value = '';
      })
      .catch((error) => showNotice(`Not sent: ${error.message}`))
      .finally(() => {
        state.sending = false;
        view.sendButton.disabled = state.name === null;
        view.messageInput.focus();
      });
  });

  void loadName();
  void start();
})();
