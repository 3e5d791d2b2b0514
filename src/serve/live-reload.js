// Live reload for `imrf-site serve`, injected into HTML pages in serve mode only.
// Listens to the server's events: reloads the page after a rebuild (keeping the scroll
// position), swaps stylesheets when only CSS changed, and shows a build error as an
// overlay until a rebuild succeeds. Error text is inserted as text, never as HTML.
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

  // The new stylesheet URLs (content-hashed) are read from a fresh copy of this page.
  function swapStylesheets() {
    fetch(location.href, { cache: "no-store" })
      .then(function (response) {
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
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
        document.documentElement.setAttribute("data-live-css", "swapped");
      })
      .catch(reload);
  }

  var overlayId = "imrf-site-build-error";
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
  events.addEventListener("reload", reload);
  events.addEventListener("css", function () {
    clearError();
    swapStylesheets();
  });
  events.addEventListener("build-error", function (event) {
    showError(event.data);
  });
})();
