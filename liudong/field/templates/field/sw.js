// The field app's service worker (issue 18). The view in liudong/field/views.py prepends
// RELEASE (a hash of this code and of every cached file), SHELL (the app's page) and ASSETS
// (the static files the page loads). A new release is a new worker: it caches the new
// files, and once active deletes the caches of older releases. It never opens IndexedDB,
// where the collector's waiting actions are: nothing done offline goes with an update.
//
// Navigation under the scope: network first (a signed-out user meets the login page, a new
// release its new shell), the cached shell when offline. Static files: cache first. /api/:
// never cached, never intercepted (the sync must reach the server or fail visibly).

const CACHE = "liudong-field-" + RELEASE;

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(ASSETS);
      // The shell needs the session: kept when it can be fetched now, else at the next
      // navigation that reaches the network.
      try {
        const response = await fetch(SHELL, { credentials: "same-origin", redirect: "manual" });
        if (response.ok && response.type === "basic") await cache.put(SHELL, response);
      } catch (error) {
        // offline while installing: the next online navigation caches the shell
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith("liudong-field-") && name !== CACHE)
          .map((name) => caches.delete(name)),
      );
      await self.clients.claim();
    })(),
  );
});

function isShell(url) {
  return url.origin === self.location.origin && url.pathname === SHELL;
}

async function navigate(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && isShell(new URL(response.url))) {
      await cache.put(SHELL, response.clone());
    }
    return response;
  } catch (error) {
    const cached = (await cache.match(SHELL)) || (await caches.match(SHELL));
    if (cached) return cached;
    throw error;
  }
}

async function staticFile(request) {
  const cached = await caches.match(request, { ignoreSearch: false });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && ASSETS.includes(new URL(request.url).pathname)) {
    const cache = await caches.open(CACHE);
    await cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return; // never intercepted
  if (request.mode === "navigate") {
    if (url.pathname === SHELL) event.respondWith(navigate(request));
    return;
  }
  if (ASSETS.includes(url.pathname)) event.respondWith(staticFile(request));
});

self.addEventListener("message", (event) => {
  if (event.data === "release") event.source.postMessage({ release: RELEASE });
});
