// The tablet keeps working without signal: the page, and the last manifest and road map it
// was given, come from this cache when the network does not answer. Events the driver
// records offline wait in the page (app.js) and are sent when the network is back.
"use strict";
const CACHE = "drt-tablet-v1";
const SHELL = ["/driver/", "/driver/app.js", "/driver/style.css"];
const KEEP = ["/v1/driver/manifest", "/v1/driver/map"]; // the last answer, for offline

self.addEventListener("install", (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (e) => e.waitUntil(self.clients.claim()));
// sign-out: the riders' names in the last manifest do not stay on the tablet
self.addEventListener("message", (e) => {
  if (e.data === "forget") e.waitUntil(caches.open(CACHE).then((c) => Promise.all(KEEP.map((k) => c.delete(k)))));
});

self.addEventListener("fetch", (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== "GET" || url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (!SHELL.includes(path) && !KEEP.includes(path)) return;
  e.respondWith(
    fetch(e.request).then((r) => {
      if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(path, copy)); }
      return r;
    }).catch(async () => {
      const hit = await caches.match(path);
      if (!hit) return Response.error();
      const headers = new Headers(hit.headers);
      headers.set("X-From-Cache", "1"); // the page shows it is offline
      return new Response(await hit.blob(), { status: hit.status, headers });
    }),
  );
});
