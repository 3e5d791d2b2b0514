// Live reload for `imrf-site serve`, injected into HTML pages in serve mode only.
// Listens to the server's events. After a rebuild it fetches the page again and
// replaces only the parts of it that changed (the text, say), so scroll position,
// focus and an open search stay as they were; when the page's stylesheets, scripts or
// outline differ, it reloads the page whole (keeping the scroll position). When only
// CSS changed it swaps the stylesheets. A build error shows as an overlay until a
// rebuild succeeds. Error text is inserted as text, never as HTML.
(function () {
  "use strict";
  var script = document.currentScript;
  var build = script ? script.getAttribute("data-build") : "";
  var scrollKey = "imrf-site-serve-scroll:" + location.pathname;

  try {
    var saved = sessionStorage.getItem(scrollKey);
    if (saved) {
      sessionStorage.removeItem(scrollKey);
      var position = JSON.parse(saved);
      // Instantly: the theme may ask for smooth scrolling, which would show the jump.
      window.addEventListener("load", function () {
        window.scrollTo({ left: position[0], top: position[1], behavior: "instant" });
      });
    }
  } catch (e) {
    // Storage may be disabled: reloads then start at the top.
  }

  function reload() {
    try {
      sessionStorage.setItem(scrollKey, JSON.stringify([window.scrollX, window.scrollY]));
    } catch (e) {
      // See above.
    }
    location.reload();
  }

  // The page's parts as served, to tell which ones a rebuild changed: the elements of
  // <body> but scripts (this one runs as the parser reaches it, before the theme's
  // scripts change anything). Scripts the page runs and the stylesheets it uses are its
  // shell: when they change, only a reload starts the page right.
  function parts(body) {
    return Array.prototype.filter.call(body.children, function (element) {
      return element.tagName !== "SCRIPT" && element.id !== overlayId;
    });
  }
  function shell(doc) {
    var assets = doc.querySelectorAll('head link[rel="stylesheet"], script[src]');
    var urls = Array.prototype.map.call(assets, function (element) {
      return element.getAttribute("href") || element.getAttribute("src").replace(/\?.*$/, "");
    });
    return [doc.documentElement.lang, doc.documentElement.dir, doc.body.className].concat(urls).join(" ");
  }
  var overlayId = "imrf-site-build-error";
  var served = parts(document.body).map(function (element) {
    return element.outerHTML;
  });
  var servedShell = withoutThisScript(shell(document));
  function withoutThisScript(pageShell) {
    return pageShell.replace(/ \/__imrf-site\/live-reload\.js$/, "");
  }

  // Search keeps state the page's parts cannot carry over (its script's listeners, a
  // query, its results): a change to a part that holds it reloads the page instead.
  function holdsSearch(part) {
    return part.querySelector("#site-search, #search-results") !== null;
  }
  // This page as the server has it now.
  function freshPage() {
    return fetch(location.href, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        return new DOMParser().parseFromString(html, "text/html");
      });
  }
  var latest = 0;

  function update() {
    var request = ++latest;
    freshPage()
      .then(function (fresh) {
        // A rebuild that came after this one has its own, newer answer.
        if (request !== latest) return;
        var freshParts = parts(fresh.body);
        var current = parts(document.body);
        var freshShell = withoutThisScript(shell(fresh));
        if (freshShell !== servedShell || freshParts.length !== current.length || current.length !== served.length) {
          reload();
          return;
        }
        var markups = freshParts.map(function (part) {
          return part.outerHTML;
        });
        for (var changed = 0; changed < markups.length; changed++) {
          if (markups[changed] !== served[changed] && holdsSearch(current[changed])) {
            reload();
            return;
          }
        }
        var focused = document.activeElement && document.activeElement.id;
        for (var i = 0; i < freshParts.length; i++) {
          if (markups[i] === served[i]) continue;
          current[i].replaceWith(document.importNode(freshParts[i], true));
          served[i] = markups[i];
        }
        document.title = fresh.title;
        if (focused && document.activeElement === document.body) {
          var again = document.getElementById(focused);
          if (again) again.focus({ preventScroll: true });
        }
        document.dispatchEvent(new Event("imrf-site:content"));
        var updates = Number(document.documentElement.getAttribute("data-live-updates") || 0) + 1;
        document.documentElement.setAttribute("data-live-updates", String(updates));
      })
      .catch(reload);
  }

  // The new stylesheet URLs (content-hashed) are read from a fresh copy of this page.
  function swapStylesheets() {
    freshPage()
      .then(function (fresh) {
        var next = fresh.querySelectorAll('link[rel="stylesheet"]');
        var current = document.querySelectorAll('link[rel="stylesheet"]');
        if (next.length !== current.length) {
          reload();
          return;
        }
        for (var i = 0; i < current.length; i++) {
          if (current[i].getAttribute("href") !== next[i].getAttribute("href")) {
            current[i].setAttribute("href", next[i].getAttribute("href"));
          }
        }
        servedShell = withoutThisScript(shell(fresh));
        document.documentElement.setAttribute("data-live-css", "swapped");
      })
      .catch(reload);
  }

  function showError(message) {
    var overlay = document.getElementById(overlayId);
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = overlayId;
      overlay.setAttribute("role", "alert");
      overlay.style.cssText =
        "position:fixed;inset:0;z-index:2147483647;overflow:auto;margin:0;padding:2rem;" +
        "background:rgba(20,20,20,.94);color:#fff;font:14px/1.5 monospace;white-space:pre-wrap";
      var title = document.createElement("strong");
      title.textContent = "imrf-site: the last change did not build. The page shows the last good version.\n\n";
      overlay.appendChild(title);
      overlay.appendChild(document.createElement("span"));
      document.body.appendChild(overlay);
    }
    overlay.lastChild.textContent = message;
  }
  function clearError() {
    var overlay = document.getElementById(overlayId);
    if (overlay) overlay.remove();
  }

  var events = new EventSource("/__imrf-site/events?build=" + encodeURIComponent(build));
  events.addEventListener("reload", function () {
    clearError();
    update();
  });
  events.addEventListener("css", function () {
    clearError();
    swapStylesheets();
  });
  events.addEventListener("build-error", function (event) {
    showError(event.data);
  });
})();
