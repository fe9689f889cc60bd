/* The gallery: the details dialog with keyboard navigation, selection for bulk actions
   (shift-click for a range, select all), and confirmations. Loaded with defer; no inline
   script anywhere, so a strict Content-Security-Policy holds. Every action also works as a
   plain form or link without it. */
(function () {
  "use strict";

  var lastChecked = null;

  function dialog() { return document.getElementById("image-dialog"); }
  function dialogBody() { return document.getElementById("image-dialog-body"); }
  function cards() { return Array.prototype.slice.call(document.querySelectorAll("[data-card]")); }
  function boxes() { return Array.prototype.slice.call(document.querySelectorAll("input[data-select]")); }
  function typing(event) {
    var t = event.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  /* ---- Details dialog ---------------------------------------------------------------- */

  function openDialog() {
    var d = dialog();
    if (d && !d.open) d.showModal();
  }

  function currentId() {
    var panel = dialogBody() && dialogBody().querySelector("[data-image-panel]");
    return panel ? panel.getAttribute("data-id") : null;
  }

  function showImage(card) {
    var link = card && card.querySelector("a[data-image]");
    if (!link || !window.htmx) return;
    window.htmx.ajax("GET", link.getAttribute("href"), { target: "#image-dialog-body", swap: "innerHTML" });
    card.scrollIntoView({ block: "nearest" });
  }

  function step(delta) {
    var all = cards();
    var id = currentId();
    var index = all.findIndex(function (c) { return c.getAttribute("data-id") === id; });
    if (index < 0) return;
    var next = all[index + delta];
    if (next) {
      showImage(next);
    } else if (delta > 0) {
      /* At the end of what is loaded: reveal the "more" marker so the next page comes in. */
      var more = document.querySelector("[data-more]");
      if (more) more.scrollIntoView({ block: "end" });
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "image-dialog-body") openDialog();
  });

  /* A favourite toggled in the dialog shows on its card too. */
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail.target;
    var form = target && target.matches && target.matches("[data-favorite-form]") ? target
      : document.querySelector("#image-dialog-body [data-favorite-form]");
    if (!form) return;
    var card = document.querySelector('[data-card][data-id="' + form.getAttribute("data-id") + '"]');
    var star = card && card.querySelector("[data-star]");
    if (star) star.hidden = form.getAttribute("data-favorite") !== "1";
  });

  /* Deleted from the dialog: close it and take the card away. */
  document.addEventListener("imageDeleted", function (event) {
    var id = event.detail && event.detail.value;
    var card = document.querySelector('[data-card][data-id="' + id + '"]');
    var all = cards();
    var index = all.indexOf(card);
    if (card) card.remove();
    var next = all[index + 1] || all[index - 1];
    if (next && next !== card && dialog() && dialog().open) {
      showImage(next);
    } else if (dialog() && dialog().open) {
      dialog().close();
    }
    updateSelection();
  });

  document.addEventListener("click", function (event) {
    var d = dialog();
    if (!event.target.closest) return;
    if (event.target.closest("[data-dialog-close]") && d) { d.close(); return; }
    var nav = event.target.closest("[data-dialog-nav]");
    if (nav) { step(nav.getAttribute("data-dialog-nav") === "next" ? 1 : -1); return; }
    /* A click on the backdrop (the dialog element itself, outside its content) closes it. */
    if (d && event.target === d) d.close();
  });

  document.addEventListener("close", function (event) {
    if (event.target === dialog()) dialogBody().innerHTML = "";
  }, true);

  document.addEventListener("keydown", function (event) {
    if (typing(event) || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
    var d = dialog();
    if (d && d.open) {
      event.preventDefault();
      step(event.key === "ArrowRight" ? 1 : -1);
      return;
    }
    /* The plain image page: its newer / older links. */
    var link = document.querySelector(event.key === "ArrowRight" ? "[data-nav=next]" : "[data-nav=prev]");
    if (link) { event.preventDefault(); window.location.href = link.href; }
  });

  /* ---- Selection and bulk actions ---------------------------------------------------- */

  function bulkForm() { return document.querySelector("[data-bulk-form]"); }

  function setMatching(on) {
    var form = bulkForm();
    if (!form) return;
    form.querySelector("[data-select-matching-input]").value = on ? "1" : "0";
    if (on) form.setAttribute("data-matching", ""); else form.removeAttribute("data-matching");
  }

  function updateSelection() {
    var form = bulkForm();
    if (!form) return;
    var count = boxes().filter(function (b) { return b.checked; }).length;
    var matching = form.hasAttribute("data-matching");
    form.hidden = count === 0 && !matching;
    var items = document.querySelector("[data-gallery-items]");
    if (items) {
      if (count || matching) items.setAttribute("data-selecting", ""); else items.removeAttribute("data-selecting");
    }
    form.querySelector("[data-selected-label]").textContent = matching
      ? "All matching images selected"
      : count + (count === 1 ? " image selected" : " images selected");
  }

  document.addEventListener("click", function (event) {
    var box = event.target.closest && event.target.closest("input[data-select]");
    if (!box) return;
    var all = boxes();
    if (event.shiftKey && lastChecked && lastChecked !== box && all.indexOf(lastChecked) >= 0) {
      var a = all.indexOf(lastChecked);
      var b = all.indexOf(box);
      all.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (x) { x.checked = box.checked; });
    }
    lastChecked = box;
    setMatching(false);
    updateSelection();
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("[data-select-loaded]")) {
      boxes().forEach(function (b) { b.checked = true; });
      setMatching(false);
    } else if (event.target.closest("[data-select-matching]")) {
      boxes().forEach(function (b) { b.checked = true; });
      setMatching(true);
    } else if (event.target.closest("[data-clear-selection]")) {
      boxes().forEach(function (b) { b.checked = false; });
      setMatching(false);
    } else {
      return;
    }
    updateSelection();
  });

  /* Newly loaded cards join an "all matching" selection. */
  document.addEventListener("htmx:afterSettle", function () {
    var form = bulkForm();
    if (form && form.hasAttribute("data-matching")) boxes().forEach(function (b) { b.checked = true; });
    updateSelection();
  });

  /* Confirmations: data-confirm on a form, or on the button that submits it. A ZIP download
     leaves the page as it is, so its form is not resubmitted later by mistake. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var message = (submitter && submitter.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  /* Empty filters stay out of the address, so bookmarks read well (?q=fox&favorite=1). */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-gallery-filters]")) return;
    form.querySelectorAll("input, select").forEach(function (field) {
      if (field.value === "" || (field.name === "sort" && field.value === "newest")) field.disabled = true;
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-gallery-filters] [disabled]").forEach(function (f) { f.disabled = false; });
  });

  /* Filters apply as soon as a choice changes; the search box on Enter. */
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-gallery-filters]");
    if (form && event.target.name !== "q") form.requestSubmit();
  });

  document.addEventListener("DOMContentLoaded", updateSelection);
})();
