/* The generate page: cost before submitting (model x images x prompts), trigger word insertion
   for personal models, prompt ideas per style and subject, and fields that follow the model.
   The server decides everything again; the page works without this file. No inline scripts. */
(function () {
  "use strict";

  function checked(form, name) {
    return form.querySelector("input[name=" + name + "]:checked");
  }

  function prompts(form) {
    var text = form.querySelector("textarea[name=prompt]").value;
    var batch = form.querySelector("[data-batch]");
    if (batch && batch.checked) {
      return text.split(/\r?\n/).filter(function (line) { return line.trim(); }).length;
    }
    return 1;
  }

  function updateCost(form) {
    var model = checked(form, "base_model");
    var count = checked(form, "num_images");
    var out = form.querySelector("[data-cost]");
    if (!model || !count || !out) return;
    var perImage = parseInt(model.getAttribute("data-credits"), 10);
    var requests = Math.max(1, prompts(form));
    var cost = perImage * parseInt(count.value, 10) * requests;
    if (isNaN(cost)) return;
    out.textContent = cost + (cost === 1 ? " credit" : " credits");
    var detail = form.querySelector("[data-cost-detail]");
    if (detail) {
      detail.hidden = requests < 2;
      detail.querySelector("[data-request-count]").textContent = requests;
    }
    var balance = parseInt(out.getAttribute("data-balance"), 10);
    var warning = form.querySelector("[data-cost-warning]");
    if (warning && !isNaN(balance)) warning.hidden = cost <= balance;
  }

  function hasWord(text, word) {
    var escaped = word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp("(^|[^\\w])" + escaped + "([^\\w]|$)", "i").test(text);
  }

  /* Picking a personal model puts its trigger word in the prompt (the server adds it too when
     it is missing, but the person should see what is sent). */
  function insertTrigger(form) {
    var model = checked(form, "base_model");
    var prompt = form.querySelector("textarea[name=prompt]");
    if (!model || !prompt) return;
    var trigger = model.getAttribute("data-trigger");
    if (!trigger || hasWord(prompt.value, trigger)) return;
    var subject = model.getAttribute("data-subject") || "person";
    var lead = "a photo of " + trigger + " " + subject;
    prompt.value = prompt.value.trim() ? lead + ", " + prompt.value.trim() : lead + ", ";
  }

  function followModel(form) {
    var model = checked(form, "base_model");
    if (!model) return;
    var personal = !!model.getAttribute("data-trigger");
    form.querySelectorAll("[data-lora-field]").forEach(function (field) {
      field.hidden = !personal;
    });
    var negative = form.querySelector("input[name=negative_prompt]");
    var note = form.querySelector("[data-negative-unsupported]");
    var supported = model.getAttribute("data-negative") !== "0";
    if (negative) negative.disabled = !supported;
    if (note) note.classList.toggle("hidden", supported);
    var steps = form.querySelector("input[name=steps]");
    if (steps) {
      steps.max = model.getAttribute("data-max-steps") || 50;
      steps.placeholder = "default (" + (model.getAttribute("data-default-steps") || "") + ")";
    }
  }

  function ideas() {
    var node = document.getElementById("generate-suggestions");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }

  function showSuggestions(form, data) {
    var box = form.querySelector("[data-suggestions]");
    if (!box) return;
    var model = checked(form, "base_model");
    var style = checked(form, "style");
    var list = [];
    if (model && data.models && data.models[model.value]) list = list.concat(data.models[model.value]);
    if (style && style.value && data.styles && data.styles[style.value]) list = list.concat(data.styles[style.value]);
    if (!list.length) list = data.general || [];
    box.querySelectorAll("[data-suggestion]").forEach(function (b) { b.remove(); });
    list.slice(0, 5).forEach(function (text) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "rounded-full border border-zinc-300 px-2.5 py-1 text-xs text-zinc-700 hover:border-violet-500 hover:text-violet-700 dark:border-zinc-700 dark:text-zinc-300";
      button.textContent = text;
      button.setAttribute("data-suggestion", "");
      box.appendChild(button);
    });
  }

  // "Write it for me": the server's prompt helper turns the words in the box into a prompt.
  function expandPrompt(form, button) {
    var prompt = form.querySelector("textarea[name=prompt]");
    var model = checked(form, "base_model");
    var style = checked(form, "style");
    var query = new URLSearchParams({
      words: prompt.value,
      base_model: model ? model.value : "",
      style: style ? style.value : "",
    });
    fetch(button.getAttribute("data-expand-url") + "?" + query.toString(),
          { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.prompt) {
          prompt.value = body.prompt;
          updateCost(form);
        }
        prompt.setCustomValidity(body.error || "");
        prompt.reportValidity();
        prompt.focus();
      });
  }

  function init(form) {
    var data = ideas();
    followModel(form);
    showSuggestions(form, data);
    updateCost(form);

    form.addEventListener("change", function (event) {
      var target = event.target;
      if (target.name === "base_model") {
        insertTrigger(form);
        followModel(form);
        showSuggestions(form, data);
      } else if (target.name === "style") {
        showSuggestions(form, data);
        var aspect = target.getAttribute("data-aspect");
        var ratio = aspect && form.querySelector("input[name=aspect_ratio][value='" + aspect + "']");
        if (ratio && !form.hasAttribute("data-ratio-touched")) ratio.checked = true;
      } else if (target.name === "aspect_ratio") {
        form.setAttribute("data-ratio-touched", "");
      }
      updateCost(form);
    });
    form.addEventListener("input", function (event) {
      if (event.target.name === "prompt") updateCost(form);
    });
    form.addEventListener("click", function (event) {
      var expand = event.target.closest && event.target.closest("[data-expand-url]");
      if (expand) {
        expandPrompt(form, expand);
        return;
      }
      var button = event.target.closest && event.target.closest("[data-suggestion]");
      if (!button) return;
      var prompt = form.querySelector("textarea[name=prompt]");
      prompt.value = button.textContent;
      insertTrigger(form);
      prompt.focus();
      updateCost(form);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-generate-form]").forEach(init);
  });
})();
