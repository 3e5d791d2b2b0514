// imrf-site's "Read offline" service worker, one per language (`/<lang>/sw.js`, whose
// scope is the language's folder), registered only when the reader asks for it. The
// build writes VERSION and FILES above: the language's files and the theme's assets
// they use, and a hash of their bytes, so a new build is a new worker to the browser.
// Each version has its own cache, named by its scope (each language, and each site on
// the same origin, keeps and deletes only its own); the theme's site.js deletes the
// caches with this prefix when the reader removes the offline copy.
var PREFIX = "imrf-offline " + self.registration.scope + " ";
var CACHE = PREFIX + VERSION;
var LISTED = new Set(
  FILES.map(function (url) {
    return new URL(url, self.location.href).href;
  })
);

// Everything is fetched before the worker takes over: installed means readable offline.
self.addEventListener("install", function (event) {
  // Fetched anew, never from the HTTP cache, which may still hold an older build's file.
  var requests = FILES.map(function (url) {
    return new Request(url, { cache: "reload" });
  });
  event.waitUntil(
    caches
      .open(CACHE)
      .then(function (cache) {
        return cache.addAll(requests);
      })
      .then(function () {
        // The new version takes over at once, not when every tab is closed: pages open
        // now are served from the network anyway.
        return self.skipWaiting();
      })
  );
});

// The previous version's cache goes as soon as this one is in charge.
self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        var old = names.filter(function (name) {
          return name.indexOf(PREFIX) === 0 && name !== CACHE;
        });
        return Promise.all(old.map(caches.delete.bind(caches)));
      })
      .then(function () {
        return self.clients.claim();
      })
  );
});

// Network first: a reader who is online always gets the published site, never a stale
// copy; the cache answers only when the network fails. Requests for files the list does
// not hold are left to the browser.
self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  // A static site's file is the same whatever the query: a results page
  // (`search/?q=...`) is the search page, a search index part (`d/0.json?v=...`) names
  // its version in the query for the HTTP cache's sake.
  url.search = "";
  if (request.method !== "GET" || !LISTED.has(url.href)) return;
  event.respondWith(
    fetch(request).catch(function (error) {
      return caches
        .open(CACHE)
        .then(function (cache) {
          return cache.match(url.href);
        })
        .then(function (cached) {
          if (cached) return cached;
          throw error;
        });
    })
  );
});
