// Sends a reader who opens the site's root to the language they prefer: the one they
// last chose in the language switcher, else the first of navigator.languages the site
// has (exact tag, then the same primary language), else the default. Readers without
// JavaScript see the plain list of languages instead.
(function () {
  "use strict";
  var root = document.documentElement;
  var links = document.querySelectorAll('link[rel="alternate"][hreflang]');
  var available = [];
  for (var i = 0; i < links.length; i++) available.push(links[i].getAttribute("hreflang"));

  function match(wanted) {
    if (!wanted) return null;
    var lower = wanted.toLowerCase();
    for (var i = 0; i < available.length; i++) {
      if (available[i].toLowerCase() === lower) return available[i];
    }
    var primary = lower.split("-")[0];
    for (var j = 0; j < available.length; j++) {
      if (available[j].toLowerCase().split("-")[0] === primary) return available[j];
    }
    return null;
  }

  var chosen = null;
  try {
    chosen = match(window.localStorage.getItem("imrf-site-language"));
  } catch (e) {
    chosen = null; // storage disabled: fall back to the browser's languages
  }
  var preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (var k = 0; !chosen && k < preferred.length; k++) chosen = match(preferred[k]);
  chosen = chosen || root.getAttribute("data-default-language");
  window.location.replace(root.getAttribute("data-base-path") + chosen + "/");
})();
