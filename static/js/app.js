/* Small progressive enhancements, loaded with defer. Every page works without them. */
(function () {
  "use strict";

  /* Toasts: dismiss on click, and on their own after a while. */
  function initToasts(scope) {
    var toasts = scope.querySelectorAll("[data-toast]:not([data-toast-ready])");
    toasts.forEach(function (toast) {
      toast.setAttribute("data-toast-ready", "");
      var close = toast.querySelector("[data-toast-close]");
      if (close) close.addEventListener("click", function () { toast.remove(); });
      if (toast.getAttribute("data-toast") !== "sticky") {
        window.setTimeout(function () { toast.remove(); }, 6000);
      }
    });
  }

  /* Copy buttons: [data-copy="#element-id"] copies that element's text. */
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.querySelector("[data-copy-label]") || button;
      var before = label.textContent;
      label.textContent = "Copied";
      window.setTimeout(function () { label.textContent = before; }, 2000);
    });
  });

  /* The generate form's cost: credits per image of the chosen model times the number of images.
     The server shows the same figure; this only keeps it current while the person chooses. */
  function updateCost(form) {
    var model = form.querySelector("input[name=base_model]:checked, select[name=base_model]");
    var count = form.querySelector("input[name=num_images]:checked, select[name=num_images]");
    var out = form.querySelector("[data-cost]");
    if (!model || !count || !out) return;
    var option = model.tagName === "SELECT" ? model.selectedOptions[0] : model;
    var perImage = parseInt(option.getAttribute("data-credits"), 10);
    var images = parseInt(count.value, 10);
    if (isNaN(perImage) || isNaN(images)) return;
    var cost = perImage * images;
    out.textContent = cost + (cost === 1 ? " credit" : " credits");
    var balance = parseInt(out.getAttribute("data-balance"), 10);
    var warning = form.querySelector("[data-cost-warning]");
    if (warning && !isNaN(balance)) warning.hidden = cost <= balance;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-cost-form]");
    if (form) updateCost(form);
  });

  function init(scope) {
    initToasts(scope);
    scope.querySelectorAll("form[data-cost-form]").forEach(updateCost);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (event) { init(event.target); });
})();
