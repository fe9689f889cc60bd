/* Photo upload for the model wizard's step 2, on top of a plain multipart form that works
   without it: drag and drop, local previews, one request per photo with its own progress bar,
   removal before upload (dropped from the queue) and after (the delete endpoint), and a running
   count against the limits. No inline script or style, so a strict CSP holds; the markup it
   clones lives in <template> elements of templates/studio/photos.html. */
(function () {
  "use strict";

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input && input.value) return input.value;
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function clone(selector) {
    var template = document.querySelector(selector);
    return template.content.firstElementChild.cloneNode(true);
  }

  function post(url, token, body, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", token);
      if (onProgress) {
        xhr.upload.onprogress = function (event) {
          if (event.lengthComputable) onProgress(event.loaded / event.total);
        };
      }
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (error) { data = null; }
        resolve({ status: xhr.status, data: data });
      };
      xhr.onerror = function () { resolve({ status: 0, data: null }); };
      xhr.send(body);
    });
  }

  function init(form) {
    var input = form.querySelector("[data-file-input]");
    var zone = form.querySelector("[data-dropzone]");
    var queueList = form.querySelector("[data-upload-queue]");
    var submit = form.querySelector("[data-upload-submit]");
    var label = form.querySelector("[data-upload-label]");
    var alertBox = form.querySelector("[data-upload-alert]");
    var summary = form.querySelector("[data-upload-summary]");
    var grid = document.querySelector("[data-photo-grid]");
    var empty = document.querySelector("[data-photo-empty]");
    var meter = document.querySelector("[data-meter]");
    var refusedSection = document.querySelector("[data-refused-section]");
    var refusedList = document.querySelector("[data-refused-list]");
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var token = csrfToken(form);
    var queue = []; // {file, tile, url, state: queued | uploading | error}
    var busy = false;

    form.setAttribute("data-enhanced", "");

    function showAlert(message) {
      alertBox.textContent = message || "";
      alertBox.hidden = !message;
    }

    function setSummary(text) { if (text) summary.textContent = text; }

    function addRefused(item) {
      var row = clone("template[data-refused-item]");
      row.setAttribute("data-code", item.code);
      row.querySelector("[data-refused-name]").textContent = item.filename;
      row.querySelector("[data-refused-reason]").textContent = item.reason;
      row.querySelector("[data-refused-code]").textContent = item.code;
      refusedList.appendChild(row);
      refusedSection.hidden = false;
    }

    function addStored(photo) {
      var tile = clone("template[data-photo-tile]");
      tile.setAttribute("data-photo", photo.id);
      var img = tile.querySelector("[data-photo-img]");
      img.src = photo.thumbnail_url;
      img.alt = photo.filename;
      tile.querySelector("[data-photo-delete]").action = photo.delete_url;
      tile.querySelector("[data-photo-delete] button")
        .setAttribute("aria-label", "Remove " + photo.filename);
      tile.querySelector("[data-photo-name]").textContent = photo.filename;
      grid.appendChild(tile);
    }

    function waiting() {
      return queue.filter(function (entry) { return entry.state !== "uploading"; }).length;
    }

    function hint(count) {
      var min = +meter.dataset.min, max = +meter.dataset.max;
      var low = +meter.dataset.low, high = +meter.dataset.high;
      var range = low + "–" + high;
      if (count < min) {
        return ["low", "Add " + (min - count) + " more to reach the minimum of " + min + "; " +
                range + " give the best likeness."];
      }
      if (count < low) return ["ok", "Enough to train. " + range + " photos give a better likeness."];
      if (count <= high) return ["good", "A good set: within the recommended " + range + "."];
      if (count < max) {
        return ["many", "More than " + high + " rarely helps; variety matters more than number."];
      }
      return ["full", "The model is full: " + max + " photos is the most it holds."];
    }

    function update() {
      var stored = grid.querySelectorAll("[data-photo]").length;
      var pending = queue.length;
      var max = +meter.dataset.max;
      meter.dataset.count = stored;
      meter.querySelector("[data-meter-count]").textContent = stored;
      meter.querySelector("[data-meter-noun]").textContent = stored === 1 ? "photo" : "photos";
      meter.querySelector("[data-meter-queued]").textContent =
        pending ? " · " + pending + " to upload" : "";
      meter.querySelectorAll("[data-meter-cell]").forEach(function (cell) {
        var n = +cell.getAttribute("data-meter-cell");
        cell.toggleAttribute("data-filled", n <= stored);
        cell.toggleAttribute("data-queued", n > stored && n <= stored + pending);
      });
      var verdict = hint(stored);
      var hintBox = meter.querySelector("[data-meter-hint]");
      hintBox.dataset.tone = verdict[0];
      hintBox.textContent = verdict[1];
      if (empty) empty.hidden = stored > 0;
      queueList.hidden = pending === 0;
      var left = waiting();
      label.textContent = busy ? "Uploading…" : left ? "Upload " + plural(left, "photo") : "Upload photos";
      submit.disabled = busy || left === 0;
      if (!busy && stored + pending > max) {
        setSummary("Only " + Math.max(0, max - stored) + " more fit in the model; the rest " +
                   "will be refused.");
      }
    }

    function addFiles(files) {
      showAlert("");
      Array.prototype.forEach.call(files, function (file) {
        if (maxBytes && file.size > maxBytes) {
          addRefused({ filename: file.name, code: "file_too_large",
                       reason: "The file is " + (file.size / 1e6).toFixed(1) + " MB; the limit is " +
                               Math.floor(maxBytes / 1e6) + " MB." });
          return;
        }
        var tile = clone("template[data-queue-tile]");
        var entry = { file: file, tile: tile, url: URL.createObjectURL(file), state: "queued" };
        var img = tile.querySelector("[data-tile-img]");
        img.addEventListener("error", function () {
          // HEIC and friends: most browsers cannot preview them; the server still can read them.
          img.hidden = true;
          tile.querySelector("[data-tile-fallback]").hidden = false;
        });
        img.src = entry.url;
        tile.querySelector("[data-tile-name]").textContent = file.name;
        tile.querySelector("[data-tile-remove]").addEventListener("click", function () {
          if (entry.state === "uploading") return;
          drop(entry);
          update();
        });
        queueList.appendChild(tile);
        queue.push(entry);
      });
      input.value = "";
      setSummary("Remove any photo you do not want, then upload.");
      update();
    }

    function drop(entry) {
      URL.revokeObjectURL(entry.url);
      entry.tile.remove();
      queue.splice(queue.indexOf(entry), 1);
    }

    function setState(entry, state, text, progress) {
      entry.state = state;
      entry.tile.setAttribute("data-state", state);
      entry.tile.querySelector("[data-tile-status]").textContent = text;
      if (progress !== undefined) entry.tile.querySelector("progress").value = progress;
    }

    function uploadOne(entry) {
      var body = new FormData();
      body.append("files", entry.file, entry.file.name);
      setState(entry, "uploading", "Uploading…", 0);
      return post(form.action, token, body, function (fraction) {
        var percent = Math.round(fraction * 100);
        setState(entry, "uploading", percent < 100 ? "Uploading " + percent + "%" : "Checking…",
                 percent);
      }).then(function (answer) {
        if (answer.status === 200 && answer.data) {
          answer.data.accepted.forEach(addStored);
          answer.data.rejected.forEach(addRefused);
          drop(entry);
          return { added: answer.data.accepted.length, refused: answer.data.rejected.length };
        }
        var message = answer.data && answer.data.message;
        if (answer.status === 409 && message) {
          showAlert(message);
          setState(entry, "error", "Not uploaded", 0);
          return { stop: true };
        }
        setState(entry, "error", answer.status ? "Failed (error " + answer.status + "): retry"
                                               : "Failed (network): retry", 0);
        return { failed: 1 };
      });
    }

    function uploadAll() {
      var entries = queue.slice();
      var added = 0, refused = 0, failed = 0;
      busy = true;
      showAlert("");
      update();
      var chain = Promise.resolve(false);
      entries.forEach(function (entry) {
        chain = chain.then(function (stop) {
          // One at a time: each photo is checked against the ones stored before it.
          if (stop || queue.indexOf(entry) === -1) return stop;
          return uploadOne(entry).then(function (result) {
            added += result.added || 0;
            refused += result.refused || 0;
            failed += result.failed || 0;
            update();
            return !!result.stop;
          });
        });
      });
      chain.then(function () {
        busy = false;
        var parts = [];
        if (added) parts.push("Added " + plural(added, "photo"));
        if (refused) parts.push("refused " + refused + " (see why below)");
        if (failed) parts.push(failed + " did not upload: upload again to retry");
        setSummary(parts.length ? parts.join(", ") + "." : "");
        update();
      });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!busy && waiting()) uploadAll();
    });

    input.addEventListener("change", function () {
      if (input.files && input.files.length) addFiles(input.files);
    });

    // Drag and drop anywhere on the form; the drop zone shows it is ready.
    function hasFiles(event) {
      return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") !== -1;
    }
    ["dragenter", "dragover"].forEach(function (type) {
      form.addEventListener(type, function (event) {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "copy";
        zone.setAttribute("data-dragging", "");
      });
    });
    form.addEventListener("dragleave", function (event) {
      if (!form.contains(event.relatedTarget)) zone.removeAttribute("data-dragging");
    });
    form.addEventListener("drop", function (event) {
      if (!hasFiles(event)) return;
      event.preventDefault();
      zone.removeAttribute("data-dragging");
      addFiles(event.dataTransfer.files);
    });
    // A file dropped beside the form would make the browser leave the page and open it.
    window.addEventListener("dragover", function (event) { if (hasFiles(event)) event.preventDefault(); });
    window.addEventListener("drop", function (event) { if (hasFiles(event)) event.preventDefault(); });

    window.addEventListener("beforeunload", function (event) {
      if (busy) event.preventDefault();
    });

    // Removing a stored photo: the same forms post without JavaScript.
    grid.addEventListener("submit", function (event) {
      var target = event.target;
      if (!target.matches("[data-photo-delete]")) return;
      event.preventDefault();
      var button = target.querySelector("button");
      button.disabled = true;
      post(target.action, token, new FormData(target)).then(function (answer) {
        if (answer.status === 200) {
          target.closest("[data-photo]").remove();
          update();
        } else if (answer.data && answer.data.message) {
          button.disabled = false;
          showAlert(answer.data.message);
        } else {
          target.submit();
        }
      });
    });

    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-upload-form]").forEach(init);
  });
})();
