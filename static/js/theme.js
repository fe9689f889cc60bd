/* Loaded in <head> without defer, so the theme is applied before the first paint.
   The choice ("light" or "dark") is remembered in localStorage; with none, the system decides.
   Any element with [data-theme-toggle] switches the theme. No inline scripts (strict CSP). */
(function () {
  "use strict";
  var KEY = "likeness-theme";
  var root = document.documentElement;
  var media = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function stored() {
    try {
      var value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (e) {
      return null; // storage blocked: follow the system
    }
  }

  function apply(theme) {
    var dark = theme ? theme === "dark" : !!(media && media.matches);
    root.classList.toggle("dark", dark);
    root.style.colorScheme = dark ? "dark" : "light";
    var buttons = document.querySelectorAll("[data-theme-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", dark ? "true" : "false");
    }
  }

  apply(stored());

  if (media && media.addEventListener) {
    media.addEventListener("change", function () {
      if (!stored()) apply(null);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-theme-toggle]");
    if (!button) return;
    var next = root.classList.contains("dark") ? "light" : "dark";
    try {
      window.localStorage.setItem(KEY, next);
    } catch (e) {
      /* not remembered, still switched */
    }
    apply(next);
  });

  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
  });
})();
