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
