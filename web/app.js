// pushdesk – subscription page logic.
//
// State for automated tests is published on <body>:
//   data-state            unsupported | insecure | install | denied | ready | subscribed |
//                         unsubscribed | error
//   data-subscription-id  server id of this device's subscription (after a successful POST)
//   data-events           connecting | open | closed   (live events WebSocket)
//   data-live-device      the device id the live events socket knows this page as
//                         ('' for none; absent until the server answered)
//   data-live-wait        seconds until the page says again who it is, after
//                         the server asked it to wait
//   data-last-push-id     id of the last push payload the service worker forwarded
//   data-remind           hidden | loading | ready | off | error   ("Remind me" section)
//   data-remind-count     how many waiting reminders the section lists

const LABEL_KEY = 'pushdesk.label';
const OPTED_OUT_KEY = 'pushdesk.optedOut';
const MAX_EVENTS = 50;
const SUBSCRIBE_TIMEOUT_MS = 20000;
const AUTO_SUBSCRIBE_ATTEMPTS = 4;
// pushdesk's default ports: HTTPS, and the plain-HTTP set-up page beside it.
const SECURE_PORT = 8443;
const SETUP_PORT = 8080;

const MESSAGES = {
  insecure:
    'This page is not in a secure context (it must be opened over HTTPS or on localhost), ' +
    'so the browser will not allow notifications.',
  unsupported: 'This browser does not support push notifications.',
  denied:
    'Notifications are blocked for this site. To allow them again, open the site settings ' +
    '(usually the lock or settings icon next to the address bar), set Notifications to ' +
    '"Allow", then reload this page.',
  ready: 'Notifications are off for this device. Press "Enable notifications" to turn them on.',
  dismissed:
    'No permission was given. Press "Enable notifications" again and choose "Allow" when the browser asks.',
  install:
    'On iPhone and iPad, notifications only reach web apps on the home screen: tap the Share ' +
    'button, choose "Add to Home Screen", then open pushdesk from the home screen and ' +
    'enable notifications there.',
  subscribed: 'Notifications are on for this device.',
  testSent: 'A test notification is on its way.',
  testTooOften: 'Please wait a minute before asking for another test.',
  turnedOff: 'Notifications are turned off for this device.',
  offline: 'Could not reach the pushdesk server. Check your connection and try again.',
  pushServiceTimeout:
    "The browser's push service did not answer in time. The browser needs internet access " +
    'to its push service; check the connection and try again.',
};

const body = document.body;
const statusEl = document.getElementById('status');
const labelInput = document.getElementById('label');
const enableButton = document.getElementById('enable');
const disableButton = document.getElementById('disable');
const testButton = document.getElementById('test');
const eventsList = document.getElementById('events');
const eventsEmpty = document.getElementById('events-empty');

let registration = null;
let serverKey = null; // Uint8Array, 65 bytes
let busy = false;

// ---------------------------------------------------------------------------
// Small helpers

function storageGet(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function storageSet(key, value) {
  try {
    if (value === null) {
      window.localStorage.removeItem(key);
    } else {
      window.localStorage.setItem(key, value);
    }
  } catch {
    // Storage may be unavailable (private mode, disabled cookies); not fatal.
  }
}

function setState(state, message) {
  body.dataset.state = state;
  if (message !== undefined) {
    statusEl.textContent = message;
  }
  const canEnable =
    state === 'ready' ||
    state === 'subscribed' ||
    state === 'unsubscribed' ||
    (state === 'error' && registration !== null);
  enableButton.disabled = busy || !canEnable;
  // Once on, the same button saves a changed device name.
  enableButton.textContent = state === 'subscribed' ? 'Save device name' : 'Enable notifications';
  disableButton.hidden = state !== 'subscribed';
  disableButton.disabled = busy;
  testButton.hidden = state !== 'subscribed';
  testButton.disabled = busy;
  followSubscription(state);
}

/** Next to the "not secure" message: where the secure page normally is. */
function offerSecureAddress() {
  const secure = `https://${window.location.hostname}:${SECURE_PORT}/`;
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.append('Try the secure address ');
  const link = document.createElement('a');
  link.href = secure;
  link.textContent = secure;
  hint.append(link, ' — if your device does not trust it yet, open ');
  const setup = document.createElement('a');
  setup.href = `http://${window.location.hostname}:${SETUP_PORT}/`;
  setup.textContent = 'the set-up page';
  hint.append(setup, ' first. If neither opens, ask whoever runs pushdesk to turn HTTPS on.');
  statusEl.after(hint);
}

/** iPhone, iPad (iPadOS reports itself as a Mac with a touch screen), iPod. */
function isAppleMobile() {
  const agent = navigator.userAgent || '';
  return /iPhone|iPad|iPod/.test(agent) || (/Macintosh/.test(agent) && navigator.maxTouchPoints > 1);
}

/** Opened from the home screen, as iOS requires for push. */
function isStandalone() {
  return navigator.standalone === true || window.matchMedia('(display-mode: standalone)').matches;
}

function setBusy(value) {
  busy = value;
  setState(body.dataset.state || 'ready');
}

/** Decode an unpadded base64url string into bytes. */
function base64UrlToBytes(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const raw = window.atob(padded);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) {
    out[i] = raw.charCodeAt(i);
  }
  return out;
}

function sameBytes(a, b) {
  if (!a || !b) return false;
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i += 1) {
    if (x[i] !== y[i]) return false;
  }
  return true;
}

/** An Error whose message is already suitable for the status line. */
class UserFacingError extends Error {}

/** Reject with a UserFacingError if the promise does not settle within ms. */
function withTimeout(promise, ms, message) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = window.setTimeout(() => reject(new UserFacingError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => window.clearTimeout(timer));
}

/** Send JSON to the server; resolve to parsed JSON (or null), throw UserFacingError on failure. */
async function sendJson(method, url, payload) {
  let response;
  try {
    response = await fetch(url, {
      method,
      headers: payload === undefined ? {} : { 'Content-Type': 'application/json' },
      body: payload === undefined ? undefined : JSON.stringify(payload),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new UserFacingError(MESSAGES.offline);
  }

  let data = null;
  const text = await response.text().catch(() => '');
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!response.ok) {
    const fromServer = data && typeof data.error === 'string' && data.error.trim();
    const err = new UserFacingError(
      fromServer || `The server answered with an error (HTTP ${response.status}).`,
    );
    err.status = response.status;
    // The API names the field to blame (or null), so the page can point at it.
    err.field = data && typeof data.field === 'string' ? data.field : null;
    throw err;
  }
  return data;
}

function describeError(err, fallback) {
  if (err instanceof UserFacingError) return err.message;
  const detail = err && err.message ? ` Details: ${err.message}` : '';
  return `${fallback}${detail}`;
}

// ---------------------------------------------------------------------------
// Push subscription handling

async function loadServerKey() {
  if (serverKey) return serverKey;
  const data = await sendJson('GET', '/api/vapid-public-key');
  const text = data && typeof data.public_key === 'string' ? data.public_key.trim() : '';
  let bytes = null;
  try {
    bytes = text ? base64UrlToBytes(text) : null;
  } catch {
    bytes = null;
  }
  if (!bytes || bytes.length !== 65 || bytes[0] !== 0x04) {
    throw new UserFacingError('The server sent an unusable push key. Ask the administrator to check pushdesk.');
  }
  serverKey = bytes;
  return serverKey;
}

/** Return a push subscription made with the server's current key, creating one if needed. */
// The subscription made with a VAPID key the server no longer has, while it is
// being replaced: { endpoint, auth }.
let replacing = null;

async function ensureSubscription() {
  const key = await loadServerKey();
  const manager = registration.pushManager;
  let subscription = await manager.getSubscription();

  if (subscription) {
    const usedKey = subscription.options && subscription.options.applicationServerKey;
    // If the server's key changed, the old subscription can no longer be used:
    // subscribe again and tell the server which row the new one replaces.
    if (usedKey && !sameBytes(usedKey, key)) {
      const old = subscription.toJSON();
      replacing = { endpoint: old.endpoint, auth: old.keys && old.keys.auth };
      await subscription.unsubscribe().catch(() => {});
      subscription = null;
    }
  }

  if (!subscription) {
    // Some browsers hang here when their push service is unreachable, so give up eventually.
    subscription = await withTimeout(
      manager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
      SUBSCRIBE_TIMEOUT_MS,
      MESSAGES.pushServiceTimeout,
    );
  }
  return subscription;
}

function currentLabel() {
  return labelInput.value.trim().slice(0, 100);
}

async function saveSubscription(subscription) {
  const payload = subscription.toJSON();
  const label = currentLabel();
  if (label) {
    payload.label = label;
  }
  if (replacing) {
    // Also for the same endpoint: new keys there need the old secret.
    payload.replaces = replacing;
  }
  const data = await sendJson('POST', '/api/subscriptions', payload);
  replacing = null;
  if (data && data.id !== undefined && data.id !== null) {
    body.dataset.subscriptionId = String(data.id);
  }
  return data;
}

// ---------------------------------------------------------------------------
// Button actions

function askPermission() {
  // Supports both the promise form and the older callback form.
  return new Promise((resolve) => {
    const result = Notification.requestPermission(resolve);
    if (result && typeof result.then === 'function') {
      result.then(resolve, () => resolve(Notification.permission));
    }
  });
}

async function onEnableClick() {
  if (busy) return;
  // Ask first, before any await, so the browser still sees the user gesture.
  const permissionAsked =
    Notification.permission === 'granted' ? Promise.resolve('granted') : askPermission();

  setBusy(true);
  statusEl.textContent = 'Waiting for your permission…';
  try {
    const permission = await permissionAsked;
    if (permission === 'denied') {
      setState('denied', MESSAGES.denied);
      return;
    }
    if (permission !== 'granted') {
      setState('ready', MESSAGES.dismissed);
      return;
    }

    statusEl.textContent = 'Turning notifications on…';
    let subscription;
    try {
      subscription = await ensureSubscription();
    } catch (err) {
      setState('error', describeError(err, 'The browser could not set up push notifications.'));
      return;
    }

    await saveSubscription(subscription);
    const label = currentLabel();
    storageSet(LABEL_KEY, label || null);
    storageSet(OPTED_OUT_KEY, null);
    setState('subscribed', MESSAGES.subscribed);
  } catch (err) {
    setState('error', describeError(err, 'Something went wrong while turning notifications on.'));
  } finally {
    setBusy(false);
  }
}

async function onTestClick() {
  if (busy) return;
  setBusy(true);
  try {
    const subscription = registration ? await registration.pushManager.getSubscription() : null;
    if (!subscription) throw new Error('This browser has no subscription any more.');
    const { endpoint, keys } = subscription.toJSON();
    await sendJson('POST', '/api/test-notification', { endpoint, auth: keys && keys.auth });
    statusEl.textContent = MESSAGES.testSent;
  } catch (err) {
    statusEl.textContent =
      err.status === 429 ? MESSAGES.testTooOften : describeError(err, 'The test could not be sent.');
  } finally {
    setBusy(false);
  }
}

async function onDisableClick() {
  if (busy) return;
  setBusy(true);
  statusEl.textContent = 'Turning notifications off…';
  try {
    const subscription = registration ? await registration.pushManager.getSubscription() : null;
    storageSet(OPTED_OUT_KEY, '1');
    if (subscription) {
      const { endpoint, keys } = subscription.toJSON();
      await subscription.unsubscribe().catch(() => false);
      try {
        // The auth secret proves to the server that this is that device.
        await sendJson('DELETE', '/api/subscriptions', { endpoint, auth: keys && keys.auth });
      } catch (err) {
        // Unknown to the server already: that is the outcome we wanted anyway.
        if (err.status !== 404) throw err;
      }
    }
    delete body.dataset.subscriptionId;
    setState('unsubscribed', MESSAGES.turnedOff);
  } catch (err) {
    delete body.dataset.subscriptionId;
    setState(
      'error',
      `Notifications are off in this browser, but the server could not be told: ${describeError(err, 'unknown error')}`,
    );
  } finally {
    setBusy(false);
  }
}

// ---------------------------------------------------------------------------
// Live events over WebSocket

function formatTime(date) {
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function addEvent(message) {
  const item = document.createElement('li');
  if (message.id !== undefined && message.id !== null) {
    item.dataset.id = String(message.id);
  }

  const title = typeof message.title === 'string' && message.title ? message.title : 'Reminder sent';
  const titleEl = document.createElement('strong');
  titleEl.className = 'event-title';
  titleEl.textContent = title;
  item.append(titleEl);

  if (typeof message.body === 'string' && message.body) {
    const bodyEl = document.createElement('span');
    bodyEl.className = 'event-body';
    bodyEl.textContent = message.body;
    item.append(bodyEl);
  }

  let when = message.sent_at ? new Date(message.sent_at) : new Date();
  if (Number.isNaN(when.getTime())) when = new Date();
  const timeEl = document.createElement('time');
  timeEl.className = 'event-time';
  timeEl.dateTime = when.toISOString();
  timeEl.textContent = formatTime(when);
  item.append(timeEl);

  eventsList.prepend(item);
  while (eventsList.children.length > MAX_EVENTS) {
    eventsList.lastElementChild.remove();
  }
  if (eventsEmpty) eventsEmpty.hidden = true;
}

let liveSocket = null; // the live-events socket while it is open
let identifyTicket = 0; // only the latest identity is sent
let identifyAgain = null; // the timer of a refused identify's second try

// The longest a page waits to say again who it is, whatever the server asks.
const MAX_IDENTIFY_WAIT_SECONDS = 300;

/**
 * Tell the live-events socket which device this page is (proven like every
 * visitor call), or that it is none: the server sends a page only what was
 * sent to its own device.
 */
async function identifyLive() {
  stopWaitingToIdentify();
  identifyTicket += 1;
  const ticket = identifyTicket;
  const socket = liveSocket;
  if (socket === null) return;

  let device = null;
  if (subscribedDevice !== null) {
    try {
      device = await deviceProof();
    } catch {
      device = null; // no subscription any more: this page is no device
    }
  }
  if (ticket !== identifyTicket || socket !== liveSocket) return;
  try {
    socket.send(JSON.stringify({ type: 'identify', device }));
  } catch {
    // Closing already; the next connection says it again.
  }
}

function stopWaitingToIdentify() {
  window.clearTimeout(identifyAgain);
  identifyAgain = null;
  delete body.dataset.liveWait;
}

function onLiveMessage(message) {
  if (message.type === 'identified') {
    body.dataset.liveDevice = message.device === null ? '' : String(message.device);
  } else if (message.type === 'refused' && typeof message.retry_after === 'number') {
    // Asked too often from this address, or the server was busy: nothing
    // changed there, and the page says it again once the wait is over.
    const seconds = Math.min(Math.max(message.retry_after, 1), MAX_IDENTIFY_WAIT_SECONDS);
    stopWaitingToIdentify();
    body.dataset.liveWait = String(seconds);
    identifyAgain = window.setTimeout(identifyLive, seconds * 1000);
  } else if (message.type === 'refused') {
    // Not known as this device (removed by the operator, say): nothing
    // arrives until the page subscribes again, which says it anew.
    body.dataset.liveDevice = '';
  } else if (message.type === 'reminder_sent') {
    addEvent(message);
  } else if (message.type === 'self_reminder_sent') {
    reloadReminders();
  }
}

function connectEvents() {
  if (!('WebSocket' in window)) return;
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${window.location.host}/api/events`;
  let delay = 1000;
  const maxDelay = 30000;
  let openedBefore = false;

  const open = () => {
    body.dataset.events = 'connecting';
    let socket;
    try {
      socket = new WebSocket(url);
    } catch {
      retry();
      return;
    }
    socket.addEventListener('open', () => {
      delay = 1000;
      liveSocket = socket;
      identifyLive();
      body.dataset.events = 'open';
      // A reminder may have gone out while the connection was down.
      if (openedBefore) reloadReminders();
      openedBefore = true;
    });
    socket.addEventListener('message', (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && typeof message === 'object') onLiveMessage(message);
    });
    socket.addEventListener('close', () => {
      if (liveSocket === socket) liveSocket = null;
      stopWaitingToIdentify(); // the next socket says it anew once open
      delete body.dataset.liveDevice;
      body.dataset.events = 'closed';
      retry();
    });
    // An 'error' is always followed by 'close', which schedules the reconnect.
  };

  const retry = () => {
    const wait = delay;
    delay = Math.min(delay * 2, maxDelay);
    window.setTimeout(open, wait);
  };

  open();
}

// ---------------------------------------------------------------------------
// "Remind me": reminders this device sets for itself
//
// The device proves itself to the server on every call with its push
// endpoint and auth secret, so nothing about it is kept here.

// How often "in 12 min" is brought up to date.
const RELATIVE_REFRESH_MS = 30000;
const MINUTE_MS = 60000;

const REMIND_MESSAGES = {
  noMessage: 'Write what you want to be reminded of.',
  noTime: 'Pick a date and time, or choose one of the quick choices.',
  noSubscription: 'This browser has no subscription any more. Press "Enable notifications" again.',
};

const remindSection = document.getElementById('remind');
const remindOff = document.getElementById('remind-off');
const remindForm = document.getElementById('remind-form');
const messageInput = document.getElementById('remind-message');
const whenFieldset = document.getElementById('remind-when');
const customTime = remindForm.querySelector('.custom-time');
const atInput = document.getElementById('remind-at');
const remindError = document.getElementById('remind-error');
const remindNote = document.getElementById('remind-note');
const setButton = document.getElementById('remind-set');
const pendingPart = document.getElementById('pending-part');
const pendingList = document.getElementById('pending');
const pendingEmpty = document.getElementById('pending-empty');
const pendingError = document.getElementById('pending-error');

let subscribedDevice = null; // this page's device id while subscribed, else null
let listTicket = 0; // only the answer to the latest list request is shown
let visitorLimits = null;
let relativeTimer = null;
let remindBusy = false;

function setRemindState(value) {
  body.dataset.remind = value;
}

/** Show the section while this device is subscribed, hide it otherwise. */
function followSubscription(state) {
  const device = state === 'subscribed' ? body.dataset.subscriptionId || null : null;
  if (device === subscribedDevice) return;
  subscribedDevice = device;
  identifyLive();
  remindSection.hidden = device === null;

  if (device === null) {
    listTicket += 1; // an answer still on its way is for a device no longer here
    window.clearInterval(relativeTimer);
    relativeTimer = null;
    renderPending([]);
    clearFormError();
    remindNote.textContent = '';
    pendingError.hidden = true;
    setRemindState('hidden');
    return;
  }
  if (relativeTimer === null) {
    relativeTimer = window.setInterval(refreshRelativeTimes, RELATIVE_REFRESH_MS);
  }
  setRemindState('loading');
  reloadReminders();
}

async function deviceProof() {
  const subscription = registration ? await registration.pushManager.getSubscription() : null;
  if (!subscription) throw new UserFacingError(REMIND_MESSAGES.noSubscription);
  const { endpoint, keys } = subscription.toJSON();
  return { endpoint, auth: keys && keys.auth };
}

/** Ask the server for this device's waiting reminders and show them. */
async function reloadReminders() {
  if (subscribedDevice === null) return;
  listTicket += 1;
  const ticket = listTicket;

  let answer;
  try {
    answer = await sendJson('POST', '/api/self-reminders/list', await deviceProof());
  } catch (err) {
    if (ticket !== listTicket) return;
    showListFailure(err);
    return;
  }
  if (ticket !== listTicket) return;

  applyLimits(answer && answer.limits);
  renderPending(answer && Array.isArray(answer.reminders) ? answer.reminders : []);
  remindOff.hidden = true;
  remindForm.hidden = false;
  pendingPart.hidden = false;
  if (pendingError.dataset.from === 'list') pendingError.hidden = true;
  setRemindState('ready');
}

function showListFailure(err) {
  if (err.status === 403) {
    // Turned off by the operator (no field), or this device is unknown to
    // the server: either way the form cannot be used, and the server's
    // sentence says why.
    remindOff.textContent = describeError(err, 'Reminders cannot be set from this device.');
    remindOff.hidden = false;
    remindForm.hidden = true;
    pendingPart.hidden = true;
    renderPending([]);
    setRemindState(err.field ? 'error' : 'off');
    return;
  }
  showPendingError(describeError(err, 'Could not load your reminders.'), 'list');
  setRemindState('error');
}

function showPendingError(message, from) {
  pendingError.textContent = message;
  pendingError.dataset.from = from;
  pendingError.hidden = false;
}

/** Offer only what the server will accept. */
function applyLimits(limits) {
  if (!limits || typeof limits !== 'object') return;
  visitorLimits = limits;
  if (Number.isInteger(limits.max_message_length)) {
    messageInput.maxLength = limits.max_message_length;
  }
  for (const choice of quickChoices()) {
    const minutes = Number(choice.value);
    choice.disabled = minutes < limits.min_delay_minutes || minutes > limits.max_delay_minutes;
  }
  const chosen = chosenChoice();
  if (!chosen || chosen.disabled) {
    const fallback = quickChoices().find((choice) => !choice.disabled);
    (fallback || customChoice()).checked = true;
  }
  updateCustomTime();
}

function allChoices() {
  return Array.from(remindForm.querySelectorAll('input[name="when"]'));
}

function quickChoices() {
  return allChoices().filter((choice) => choice.value !== 'custom');
}

function customChoice() {
  return allChoices().find((choice) => choice.value === 'custom');
}

function chosenChoice() {
  return allChoices().find((choice) => choice.checked) || null;
}

/** A Date as a datetime-local input's value: local time, to the minute. */
function localInputValue(date) {
  const two = (n) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}` +
    `T${two(date.getHours())}:${two(date.getMinutes())}`
  );
}

/** Show the time field for "Pick a time", with the range the server allows. */
function updateCustomTime() {
  const custom = chosenChoice() === customChoice();
  customTime.hidden = !custom;
  if (!visitorLimits) return;

  const now = Date.now();
  // Rounded up to a whole minute, as the field cannot hold seconds.
  const earliest = new Date(
    Math.ceil((now + visitorLimits.min_delay_minutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS,
  );
  const latest = new Date(now + visitorLimits.max_delay_minutes * MINUTE_MS);
  atInput.min = localInputValue(earliest);
  atInput.max = localInputValue(latest);
  if (custom && !atInput.value) {
    // A starting point the visitor only has to nudge: the next full hour
    // that is far enough away.
    const suggestion = new Date(Math.max(earliest.getTime(), now + 30 * MINUTE_MS));
    suggestion.setMinutes(0, 0, 0);
    suggestion.setHours(suggestion.getHours() + 1);
    atInput.value = localInputValue(suggestion <= latest ? suggestion : earliest);
  }
}

function renderPending(reminders) {
  pendingList.replaceChildren(...reminders.map(pendingItem));
  pendingEmpty.hidden = reminders.length > 0;
  body.dataset.remindCount = String(reminders.length);
}

function pendingItem(reminder) {
  const due = new Date(reminder.due_at);
  const item = document.createElement('li');
  item.className = 'pending-item';
  item.dataset.id = String(reminder.id);
  item.dataset.status = String(reminder.status);

  const when = document.createElement('p');
  when.className = 'pending-when';
  const time = document.createElement('time');
  time.className = 'pending-time';
  time.dateTime = due.toISOString();
  time.textContent = formatDue(due);
  const relative = document.createElement('span');
  relative.className = 'pending-relative';
  relative.dataset.due = String(due.getTime());
  relative.dataset.status = String(reminder.status);
  relative.textContent = relativeTo(due, reminder.status);
  when.append(time, relative);

  const message = document.createElement('p');
  message.className = 'pending-message';
  message.textContent = String(reminder.message);
  item.append(when, message);

  if (reminder.status === 'scheduled') {
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'secondary cancel';
    cancel.textContent = 'Cancel';
    cancel.setAttribute('aria-label', `Cancel the reminder at ${formatDue(due)}`);
    cancel.addEventListener('click', () => cancelReminder(reminder.id, cancel));
    item.append(cancel);
  }
  return item;
}

/** "17:30" today, "Tomorrow 09:00", "Fri 5 Dec 09:00" further away. */
function formatDue(date) {
  if (Number.isNaN(date.getTime())) return 'unknown time';
  const time = date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  const today = new Date();
  if (date.toDateString() === today.toDateString()) return time;
  const tomorrow = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
  if (date.toDateString() === tomorrow.toDateString()) return `Tomorrow ${time}`;
  const day = date.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
  return `${day} ${time}`;
}

/** "in 12 min", "in 2 h 5 min", "in 3 days". */
function relativeTo(due, status) {
  if (status === 'sending') return 'sending now';
  const minutes = Math.ceil((due.getTime() - Date.now()) / MINUTE_MS);
  if (Number.isNaN(minutes)) return '';
  if (minutes <= 0) return 'due now';
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 24) return rest ? `in ${hours} h ${rest} min` : `in ${hours} h`;
  const days = Math.round(minutes / (24 * 60));
  return `in ${days} day${days === 1 ? '' : 's'}`;
}

function refreshRelativeTimes() {
  for (const relative of pendingList.querySelectorAll('.pending-relative')) {
    relative.textContent = relativeTo(new Date(Number(relative.dataset.due)), relative.dataset.status);
  }
  if (!customTime.hidden) updateCustomTime();
}

function clearFormError() {
  remindError.hidden = true;
  remindError.textContent = '';
  delete remindError.dataset.field;
  for (const input of [messageInput, atInput, whenFieldset]) {
    input.removeAttribute('aria-invalid');
  }
}

/** A sentence next to the form, and the field it is about marked. */
function showFormError(message, field) {
  remindError.textContent = message;
  remindError.hidden = false;
  if (field) remindError.dataset.field = field;

  let blamed = null;
  if (field === 'message') blamed = messageInput;
  else if (field === 'at') blamed = atInput;
  else if (field === 'in_minutes') blamed = whenFieldset;
  if (blamed) {
    blamed.setAttribute('aria-invalid', 'true');
    if (blamed !== whenFieldset) blamed.focus();
  }
}

/** What the form asks for, or a sentence saying what is missing. */
function readForm() {
  const message = messageInput.value.trim();
  if (!message) return { problem: REMIND_MESSAGES.noMessage, field: 'message' };

  const chosen = chosenChoice();
  if (chosen && chosen !== customChoice()) {
    return { request: { message, in_minutes: Number(chosen.value) } };
  }
  // new Date() reads "2026-12-04T17:30" as the device's local time.
  const at = atInput.value ? new Date(atInput.value) : null;
  if (!at || Number.isNaN(at.getTime())) return { problem: REMIND_MESSAGES.noTime, field: 'at' };
  return { request: { message, at: at.toISOString() } };
}

async function onRemindSubmit(event) {
  event.preventDefault();
  if (remindBusy) return;
  clearFormError();
  remindNote.textContent = '';

  const { request, problem, field } = readForm();
  if (problem) {
    showFormError(problem, field);
    return;
  }

  remindBusy = true;
  setButton.disabled = true;
  let offMaybe = false;
  try {
    const answer = await sendJson('POST', '/api/self-reminders', {
      ...(await deviceProof()),
      ...request,
    });
    messageInput.value = '';
    const due = new Date(answer && answer.reminder ? answer.reminder.due_at : NaN);
    remindNote.textContent = `Set for ${formatDue(due)}.`;
  } catch (err) {
    showFormError(describeError(err, 'The reminder could not be set.'), err.field);
    // Refused without a field: too many waiting, or turned off meanwhile;
    // the list says which.
    offMaybe = err.status === 403 && !err.field;
    if (!offMaybe) return;
  } finally {
    remindBusy = false;
    setButton.disabled = false;
  }
  await reloadReminders();
}

async function cancelReminder(id, button) {
  button.disabled = true;
  pendingError.hidden = true;
  try {
    await sendJson('DELETE', `/api/self-reminders/${encodeURIComponent(id)}`, await deviceProof());
  } catch (err) {
    // Perhaps it went out a moment ago; the list below shows what is left.
    showPendingError(describeError(err, 'The reminder could not be cancelled.'), 'cancel');
  }
  await reloadReminders();
}

function onChoiceChange() {
  clearFormError();
  updateCustomTime();
  if (chosenChoice() === customChoice()) atInput.focus();
}

function setUpRemindForm() {
  remindForm.addEventListener('submit', onRemindSubmit);
  for (const choice of allChoices()) {
    choice.addEventListener('change', onChoiceChange);
  }
  messageInput.addEventListener('input', () => {
    remindNote.textContent = '';
    if (remindError.dataset.field === 'message') clearFormError();
  });
  atInput.addEventListener('input', () => {
    if (remindError.dataset.field === 'at') clearFormError();
  });
  // Back on the page after a while: what went out meanwhile drops off.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible') return;
    refreshRelativeTimes();
    reloadReminders();
  });
}

// ---------------------------------------------------------------------------
// Start-up

async function start() {
  const savedLabel = storageGet(LABEL_KEY);
  if (savedLabel) labelInput.value = savedLabel;

  setRemindState('hidden');
  setUpRemindForm();
  connectEvents();

  if (!window.isSecureContext) {
    setState('insecure', MESSAGES.insecure);
    offerSecureAddress();
    return;
  }
  if (isAppleMobile() && !isStandalone()) {
    setState('install', MESSAGES.install);
    return;
  }
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    setState('unsupported', MESSAGES.unsupported);
    return;
  }
  if (Notification.permission === 'denied') {
    setState('denied', MESSAGES.denied);
    return;
  }

  try {
    await navigator.serviceWorker.register('/sw.js', { scope: '/', updateViaCache: 'none' });
    registration = await navigator.serviceWorker.ready;
  } catch (err) {
    setState('error', describeError(err, 'The notification helper (service worker) could not be started.'));
    return;
  }

  navigator.serviceWorker.addEventListener('message', (event) => {
    const data = event.data;
    if (data && data.type === 'push' && data.payload && data.payload.id !== undefined) {
      body.dataset.lastPushId = String(data.payload.id);
    }
  });

  enableButton.addEventListener('click', onEnableClick);
  disableButton.addEventListener('click', onDisableClick);
  testButton.addEventListener('click', onTestClick);

  try {
    await loadServerKey();
  } catch (err) {
    // The button stays usable: pressing it tries to fetch the key again.
    setState('error', describeError(err, 'Could not load the server settings.'));
    return;
  }

  const optedOut = storageGet(OPTED_OUT_KEY) === '1';
  if (Notification.permission !== 'granted' || optedOut) {
    if (optedOut) {
      setState('unsubscribed', MESSAGES.turnedOff);
    } else {
      setState('ready', MESSAGES.ready);
    }
    return;
  }

  // Permission was given earlier: make sure the server has a fresh copy.
  // A browser that has just started may not have reached its push service
  // yet (Firefox connects late), so a subscribe that times out is retried.
  let subscription;
  for (let attempt = 1; ; attempt += 1) {
    try {
      subscription = await ensureSubscription();
      break;
    } catch (err) {
      const timedOut = err instanceof UserFacingError && err.message === MESSAGES.pushServiceTimeout;
      if (timedOut && attempt < AUTO_SUBSCRIBE_ATTEMPTS) {
        await new Promise((resolve) => window.setTimeout(resolve, 2000));
        continue;
      }
      if (err instanceof UserFacingError) {
        setState('error', err.message);
      } else {
        // Could not subscribe without a click; let the user press the button.
        setState('ready', MESSAGES.ready);
      }
      return;
    }
  }
  try {
    await saveSubscription(subscription);
    setState('subscribed', MESSAGES.subscribed);
  } catch (err) {
    setState('error', describeError(err, 'Could not update this device on the server.'));
  }
}

start().catch((err) => {
  setState('error', describeError(err, 'Something went wrong while loading the page.'));
});
