// Cairn Boot UI: progressive enhancement only. Without JavaScript the forms still
// post and the job page refreshes itself; with it, progress streams live over SSE.
"use strict";
(function () {
  var form = document.getElementById("apply-form");
  if (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = true; });
      var s = document.getElementById("submitting");
      if (s) s.hidden = false;
    });
  }

  var job = document.getElementById("job");
  if (!job || !window.EventSource) return;
  var id = job.getAttribute("data-job-id");
  var deviceUrl = job.getAttribute("data-device-url");
  var list = document.getElementById("steps");
  var state = document.getElementById("state");
  var outcome = document.getElementById("outcome");
  var refresh = document.getElementById("refresh");
  if (refresh) refresh.parentNode.removeChild(refresh);
  var seen = {};
  Array.prototype.forEach.call(list.querySelectorAll("li[data-seq]"), function (li) { seen[li.getAttribute("data-seq")] = true; });

  function text(tag, cls, value) {
    var el = document.createElement(tag);
    if (cls) el.className = cls;
    el.textContent = value;
    return el;
  }
  function addEvent(ev) {
    if (seen[ev.seq]) return;
    seen[ev.seq] = true;
    var li = document.createElement("li");
    li.setAttribute("data-seq", ev.seq);
    li.setAttribute("data-step", ev.step);
    li.appendChild(text("span", "st " + ev.status, ev.status));
    li.appendChild(text("span", "msg", ev.step + (ev.message ? ": " + ev.message : "")));
    li.appendChild(text("span", "ms", (ev.elapsed_ms / 1000).toFixed(1) + " s"));
    list.appendChild(li);
    state.textContent = "running";
    state.className = "state running";
  }
  function finish(job) {
    state.textContent = job.state;
    state.className = "state " + job.state;
    outcome.innerHTML = "";
    var box = document.createElement("div");
    if (job.state === "succeeded") {
      box.className = "banner ok";
      box.id = "result-ok";
      box.appendChild(text("strong", "", "Applied. "));
      box.appendChild(document.createTextNode("Generation " + job.generation + " is active. The device is now managed with signed requests (provision apply) from "));
      var a = text("a", "mono", deviceUrl || location.origin);
      a.href = deviceUrl || location.origin;
      box.appendChild(a);
      box.appendChild(document.createTextNode(". This setup page is now closed."));
    } else {
      box.className = "banner bad";
      box.id = "result-failed";
      box.appendChild(text("strong", "", "Apply failed. "));
      box.appendChild(document.createTextNode((job.error || "unknown error") + " "));
      var rb = {
        not_needed: "Nothing was changed on the device.",
        completed: "The previous generation was restored.",
        failed: "Rolling back also failed: check the device console.",
        discarded: "The candidate was discarded; the device is still unprovisioned and this page stays open. Fix the config and try again."
      }[job.rollback] || ("Rollback: " + job.rollback);
      box.appendChild(text("span", "rollback", rb));
      var back = text("a", "", " Back to setup");
      back.href = "/";
      if (job.rollback === "discarded") box.appendChild(back);
    }
    outcome.appendChild(box);
    outcome.hidden = false;
  }

  var es = new EventSource("/api/jobs/" + encodeURIComponent(id) + "/events");
  es.addEventListener("step", function (m) { addEvent(JSON.parse(m.data)); });
  es.addEventListener("done", function (m) { es.close(); finish(JSON.parse(m.data)); });
  es.onerror = function () {
    // The stream ended without `done` (service restart): ask once for the record.
    if (es.readyState === EventSource.CLOSED) {
      fetch("/api/jobs/" + encodeURIComponent(id)).then(function (r) { return r.json(); }).then(function (j) {
        (j.events || []).forEach(addEvent);
        if (j.state === "succeeded" || j.state === "failed") finish(j);
      });
    }
  };
})();
