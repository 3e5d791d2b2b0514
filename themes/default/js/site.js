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
})();
