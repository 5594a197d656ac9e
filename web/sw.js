// pushdesk service worker: shows push notifications and handles clicks.
// Deliberately caches nothing; every request goes to the network as usual.

const DEFAULT_TITLE = 'pushdesk';
const DEFAULT_BODY = 'You have a new reminder.';
const ICON = '/icons/icon-192.png';
const BADGE = '/icons/badge-72.png';

self.addEventListener('install', () => {
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

function readPayload(event) {
  if (!event.data) return {};
  try {
    const parsed = event.data.json();
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
  } catch {
    // Not JSON: a plain text push is shown as the body.
    try {
      const text = event.data.text();
      return text.trim() ? { body: text } : {};
    } catch {
      return {};
    }
  }
}

// Tells pushdesk that this device showed or opened a reminder. A lost receipt
// costs a number in the operator's table, never the notification.
async function sendReceipt(data, kind) {
  if (!data || typeof data.receipt !== 'string' || !Number.isInteger(data.device)) return;
  try {
    await fetch('/api/receipts', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ id: data.id, device: data.device, receipt: data.receipt, kind }),
    });
  } catch {
    // offline, or pushdesk not running: nothing to do
  }
}

function nonEmptyString(value) {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

async function tellWindows(payload) {
  try {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    for (const client of windows) {
      client.postMessage({ type: 'push', payload });
    }
  } catch {
    // Informing open pages is optional; never let it block the notification.
  }
}

self.addEventListener('push', (event) => {
  const payload = readPayload(event);
  const title = nonEmptyString(payload.title) || DEFAULT_TITLE;
  const options = {
    body: nonEmptyString(payload.body) || (nonEmptyString(payload.title) ? '' : DEFAULT_BODY),
    icon: nonEmptyString(payload.icon) || ICON,
    badge: BADGE,
    data: {
      url: nonEmptyString(payload.url),
      id: payload.id === undefined ? null : payload.id,
      device: Number.isInteger(payload.device) ? payload.device : null,
      receipt: nonEmptyString(payload.receipt),
    },
  };
  const tag = nonEmptyString(payload.tag);
  if (tag) options.tag = tag;

  event.waitUntil(
    Promise.all([
      self.registration
        .showNotification(title, options)
        .then(() => sendReceipt(options.data, 'displayed')),
      tellWindows(payload),
    ]),
  );
});

function resolveUrl(value) {
  if (!value) return null;
  try {
    return new URL(value, self.location.origin);
  } catch {
    return null;
  }
}

async function openTarget(data) {
  const origin = self.location.origin;
  const wanted = resolveUrl(data && data.url);
  const target = wanted ? wanted.href : new URL('/', origin).href;

  // A link to another site always gets its own window.
  if (wanted && wanted.origin !== origin) {
    return self.clients.openWindow(target);
  }

  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const ours = windows.filter((client) => {
    try {
      return new URL(client.url).origin === origin;
    } catch {
      return false;
    }
  });

  if (ours.length === 0) {
    return self.clients.openWindow(target);
  }

  const client = ours.find((c) => c.focused) || ours[0];
  let focused = client;
  if ('focus' in client) {
    focused = await client.focus();
  }
  if (wanted && client.url !== target && typeof client.navigate === 'function') {
    // navigate() only works for clients this worker controls; fall back to a new window.
    try {
      const navigated = await (focused || client).navigate(target);
      if (navigated) return navigated;
    } catch {
      // fall through
    }
    return self.clients.openWindow(target);
  }
  return focused;
}

self.addEventListener('notificationclick', (event) => {
  const notification = event.notification;
  notification.close();
  const data = notification.data || {};
  event.waitUntil(Promise.all([openTarget(data), sendReceipt(data, 'clicked')]));
});

// If the browser replaces the subscription on its own, tell the server about the new one.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(
    (async () => {
      const old = event.oldSubscription;
      let fresh = event.newSubscription;
      if (!fresh && old && old.options && old.options.applicationServerKey) {
        fresh = await self.registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: old.options.applicationServerKey,
        });
      }
      if (fresh) {
        const payload = fresh.toJSON();
        const previous = old && old.toJSON ? old.toJSON() : null;
        if (previous) {
          // The server moves the device's name and groups to the new row; the
          // old secret also proves it is this device if only the keys changed.
          payload.replaces = { endpoint: previous.endpoint, auth: previous.keys && previous.keys.auth };
        }
        await fetch('/api/subscriptions', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(payload),
        });
      }
    })().catch(() => {}),
  );
});
