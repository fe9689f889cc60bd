/* The consent selfie: the browser's camera (getUserMedia) into a <video>, one frame drawn on a
   <canvas> and put into the form's file input as a JPEG, so the form sends it like a chosen
   file. Without a camera (or without permission) the file input stays the way to send one.
   No inline script or style, so a strict CSP holds. */
(function () {
  "use strict";

  var form = document.querySelector("[data-consent-form]");
  var box = form && form.querySelector("[data-camera]");
  if (!box) return;
  var input = form.querySelector("input[name=selfie]");
  var video = box.querySelector("[data-camera-video]");
  var canvas = box.querySelector("[data-camera-canvas]");
  var shot = box.querySelector("[data-camera-shot]");
  var start = box.querySelector("[data-camera-start]");
  var take = box.querySelector("[data-camera-take]");
  var retake = box.querySelector("[data-camera-retake]");
  var note = box.querySelector("[data-camera-note]");
  var stream = null;

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.DataTransfer) {
    return;  // the file input alone
  }
  box.hidden = false;

  function show(el, visible) { el.hidden = !visible; }

  function stop() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
  }

  function live() {
    show(video, true); show(shot, false); show(take, true); show(retake, false);
    note.textContent = "Look at the camera, alone, with your whole face in the picture.";
  }

  start.addEventListener("click", function () {
    note.textContent = "Asking for the camera…";
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "user", width: { ideal: 1280 } },
                                          audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        show(start, false);
        live();
      })
      .catch(function () {
        note.textContent = "The camera is not available: choose a photo taken now instead.";
      });
  });

  take.addEventListener("click", function () {
    if (!video.videoWidth) { note.textContent = "The camera is still starting; try again."; return; }
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    canvas.toBlob(function (blob) {
      var file = new File([blob], "selfie.jpg", { type: "image/jpeg" });
      var files = new DataTransfer();
      files.items.add(file);
      input.files = files.files;
      shot.src = URL.createObjectURL(blob);
      show(shot, true); show(video, false); show(take, false); show(retake, true);
      note.textContent = "Selfie taken. Confirm below to check it against the photos.";
      form.setAttribute("data-selfie-taken", "");
      stop();
    }, "image/jpeg", 0.92);
  });

  retake.addEventListener("click", function () {
    input.value = "";
    form.removeAttribute("data-selfie-taken");
    start.click();
  });

  window.addEventListener("pagehide", stop);
}());
