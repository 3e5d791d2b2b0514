// Progressive enhancements shared by every page. The site works without this file.
(function () {
  "use strict";
  // Remember an explicit language choice so the root page honours it next time.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".language-switcher a[hreflang]");
    if (!link) return;
    try {
      window.localStorage.setItem("imrf-site-language", link.getAttribute("hreflang"));
    } catch (e) {
      // Storage may be disabled; the switcher still works as a plain link.
    }
  });
  // A language switch lands on the block being read: block ids (p-14-3, q-14-1, fn-1)
  // are the same in every language, so the fragment carries over. The href is set
  // before the browser reads it (hover, press, focus, click), so middle-click and "open
  // in new tab" land there too; without a block in view the link lands on the page.
  var BLOCK_ID = /^(p-|q-|fn-)/;
  function inView(element) {
    var rect = element.getBoundingClientRect();
    // A block scrolled almost out at the top is no longer the one being read.
    return rect.top < window.innerHeight && rect.bottom > window.innerHeight * 0.1;
  }
  function blockInView() {
    var main = document.querySelector("main");
    // Not scrolled yet: the reader is at the page, not at a paragraph.
    if (!main || (window.pageYOffset === 0 && !location.hash)) return "";
    var target = null;
    try {
      target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    } catch (e) {
      // A malformed fragment (%E0) names no block; fall back to what is in view.
    }
    // A block reached through its permalink is the one being read, even below another.
    if (target && BLOCK_ID.test(target.id) && main.contains(target) && inView(target)) return target.id;
    var candidates = main.querySelectorAll("[id]");
    for (var i = 0; i < candidates.length; i++) {
      if (BLOCK_ID.test(candidates[i].id) && inView(candidates[i])) return candidates[i].id;
    }
    return "";
  }
  function pointAtBlock(event) {
    var link = event.target.closest && event.target.closest(".language-switcher a[hreflang]");
    if (!link) return;
    var id = blockInView();
    // Recomputed every time: the reader may have scrolled since the last hover.
    var page = link.getAttribute("href").split("#")[0];
    link.setAttribute("href", id ? page + "#" + id : page);
  }
  ["pointerdown", "focusin", "mouseover", "click"].forEach(function (type) {
    document.addEventListener(type, pointAtBlock);
  });
  // Permalinks: each block (p-...) and guiding question (q-...) gets a link to itself,
  // named for screen readers. Made here rather than in every page's HTML, where one link
  // per paragraph made pages a quarter larger; the ids, which links land on, are in the
  // HTML. Positioned out of the flow (CSS), so adding them moves no text.
  function addPermalinks() {
    var label = document.body.getAttribute("data-permalink-label");
    if (!label) return;
    var linked = document.querySelectorAll("main [id^='p-'], main li[id^='q-']");
    for (var n = 0; n < linked.length; n++) {
      if (linked[n].querySelector(":scope > .permalink")) continue;
      var permalink = document.createElement("a");
      permalink.className = "permalink";
      permalink.href = "#" + linked[n].id;
      permalink.setAttribute("aria-label", label);
      linked[n].appendChild(permalink);
    }
  }
  // The objectives (.site-menu) and a page's contents (.toc-menu) are <details>: folded
  // on a small screen, always shown on a wide one (CSS), and opened or closed without
  // this script. Here their open state follows the width too, so that assistive
  // technology is told what the screen shows; on a small screen Escape closes them, and
  // a click elsewhere closes the objectives, as it would a menu button's menu. The
  // elements are looked up each time: the preview server may replace them.
  var menus = window.matchMedia
    ? [[".site-menu", window.matchMedia("(min-width: 48rem)")], [".toc-menu", window.matchMedia("(min-width: 62rem)")]]
    : [];
  function followWidth() {
    menus.forEach(function (pair) {
      var menu = document.querySelector(pair[0]);
      if (menu) menu.open = pair[1].matches;
    });
  }
  menus.forEach(function (pair) {
    pair[1].addEventListener("change", followWidth);
  });
  // Escape closes the menu that holds the focus (not one the reader is elsewhere from,
  // such as the search box, which has its own use for Escape).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    menus.forEach(function (pair) {
      var menu = document.querySelector(pair[0]);
      if (!menu || !menu.open || pair[1].matches || !menu.contains(document.activeElement)) return;
      menu.open = false;
      menu.querySelector("summary").focus();
    });
  });
  // The objectives lie over the page on a small screen: a click elsewhere closes them,
  // and so does the focus leaving them, which would otherwise move under them.
  function closeObjectivesOutside(target) {
    var menu = document.querySelector(".site-menu");
    if (menu && menu.open && menus.length && !menus[0][1].matches && target && !menu.contains(target)) {
      menu.open = false;
    }
  }
  document.addEventListener("click", function (event) {
    closeObjectivesOutside(event.target);
  });
  document.addEventListener("focusout", function (event) {
    closeObjectivesOutside(event.relatedTarget);
  });
  // Cite this page: every format names the paragraph the page was opened at (the ids
  // are the same in every language), and gets buttons to copy it and, for the formats
  // reference managers import, to download it as a file.
  var citation = null;
  function pointCitation() {
    if (!citation) return;
    var id = "";
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      // A malformed fragment names no paragraph.
    }
    var url = BLOCK_ID.test(id) && document.getElementById(id) ? citation.url + "#" + id : citation.url;
    for (var i = 0; i < citation.formats.length; i++) {
      var holder = citation.formats[i].querySelector("code") || citation.formats[i];
      holder.textContent = citation.written[i].split(citation.url).join(url);
    }
  }
  window.addEventListener("hashchange", pointCitation);
  // A button named for what it acts on ("Copy (BibTeX)"), its visible label short.
  function button(label, format, act) {
    var made = document.createElement("button");
    made.type = "button";
    made.textContent = label;
    made.setAttribute("aria-label", label + " (" + format + ")");
    made.addEventListener("click", function () {
      act(made);
    });
    return made;
  }
  function copyButton(cite, format, name) {
    return button(cite.getAttribute("data-copy-label"), name, function (pressed) {
      if (!navigator.clipboard || !navigator.clipboard.writeText) return;
      navigator.clipboard.writeText(format.textContent).then(function () {
        pressed.textContent = cite.getAttribute("data-copied-label");
        pressed.setAttribute("aria-label", cite.getAttribute("data-copied-label") + " (" + name + ")");
        setTimeout(function () {
          pressed.textContent = cite.getAttribute("data-copy-label");
          pressed.setAttribute("aria-label", cite.getAttribute("data-copy-label") + " (" + name + ")");
        }, 2000);
      }, function () {});
    });
  }
  function downloadButton(cite, format, file, name) {
    return button(cite.getAttribute("data-download-label"), name, function () {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([format.textContent], { type: "text/plain;charset=utf-8" }));
      link.download = file;
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () {
        URL.revokeObjectURL(link.href);
      }, 1000);
    });
  }
  function enhanceCitation() {
    var cite = document.querySelector(".cite-body");
    if (citation && citation.element === cite) return;
    citation = null;
    if (!cite) return;
    var formats = cite.querySelectorAll("[data-cite-format]");
    citation = { element: cite, url: cite.getAttribute("data-cite-url"), formats: formats, written: [] };
    Array.prototype.forEach.call(formats, function (format) {
      citation.written.push(format.textContent);
      var label = format.parentNode.querySelector("figcaption");
      if (!label) return;
      var name = label.textContent;
      var actions = document.createElement("span");
      actions.className = "cite-actions";
      actions.appendChild(copyButton(cite, format, name));
      var file = format.getAttribute("data-cite-file");
      if (file) actions.appendChild(downloadButton(cite, format, file, name));
      label.after(actions);
    });
    pointCitation();
  }
  // What is added to the page's content; again when the preview server (imrf-site serve)
  // replaces parts of the page after an edit instead of reloading it.
  function enhanceContent() {
    addPermalinks();
    followWidth();
    enhanceCitation();
    enhanceOffline();
  }
  // Read offline, where the site offers it (.offline) and the browser has service
  // workers: the button registers the language's worker, which keeps the language's
  // files before it activates, or removes it and its caches (named by this prefix and
  // its scope: a contract with the worker's code). The state is the browser's, read on
  // every page; the worker of a page without the button (the site turned it off) goes.
  function showOffline(control, saved, message) {
    var button = control.querySelector("button");
    control.hidden = false;
    control.setAttribute("data-state", saved ? "saved" : "");
    button.textContent = control.getAttribute(saved ? "data-remove" : "data-save");
    button.removeAttribute("aria-disabled");
    control.querySelector("[role=status]").textContent = message ? control.getAttribute("data-" + message) : "";
  }
  function offlineWorker() {
    return navigator.serviceWorker.getRegistration().then(function (registration) {
      var worker = registration && registration.active;
      return worker && worker.scriptURL === registration.scope + "sw.js" ? registration : null;
    });
  }
  function removeOffline(registration) {
    var prefix = "imrf-offline " + registration.scope + " ";
    return registration.unregister().then(function () {
      return caches.keys();
    }).then(function (names) {
      return Promise.all(names.map(function (name) {
        return name.indexOf(prefix) === 0 && caches.delete(name);
      }));
    });
  }
  function activated(registration) {
    var worker = registration.installing || registration.waiting || registration.active;
    return new Promise(function (resolve, reject) {
      function settle() {
        if (worker.state === "activated") resolve();
        if (worker.state === "redundant") reject(new Error("redundant"));
      }
      worker.addEventListener("statechange", settle);
      settle();
    });
  }
  function enhanceOffline() {
    var control = document.querySelector(".offline[data-worker]");
    if (!("serviceWorker" in navigator) || (control && !control.hidden)) return;
    offlineWorker().then(function (registration) {
      if (control) showOffline(control, !!registration, registration ? "saved" : "");
      // Only a page that says the site stopped offering it removes a kept copy: a page
      // without the control (a 404 page) must not.
      else if (registration && document.querySelector('meta[name="imrf-offline"][content="off"]')) removeOffline(registration);
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".offline button");
    if (!button || button.getAttribute("aria-disabled")) return;
    var control = button.parentNode;
    var saved = control.getAttribute("data-state") === "saved";
    button.setAttribute("aria-disabled", "true");
    if (!saved) control.querySelector("[role=status]").textContent = control.getAttribute("data-saving");
    var done = saved
      ? offlineWorker().then(function (registration) {
        return registration && removeOffline(registration);
      })
      : navigator.serviceWorker.register(control.getAttribute("data-worker")).then(activated);
    done.then(function () {
      showOffline(control, !saved, saved ? "removed" : "saved");
    }, function () {
      showOffline(control, saved, saved ? "remove-failed" : "failed");
    });
  });
  enhanceContent();
  document.addEventListener("imrf-site:content", enhanceContent);
  // Search: nothing is fetched until the reader focuses the search box or opens the
  // search page; then search.js loads (and fetches the index itself).
  var searchLoaded = false;
  function loadSearch() {
    var src = document.body.getAttribute("data-search-script");
    if (searchLoaded || !src) return;
    searchLoaded = true;
    var script = document.createElement("script");
    script.src = src;
    document.head.appendChild(script);
  }
  document.addEventListener("focusin", function (event) {
    if (event.target.id === "site-search") loadSearch();
  });
  if (document.getElementById("search-results")) loadSearch();
})();
