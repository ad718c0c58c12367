// The operation page's live log: follows /api/operations/{id}/events (Server-Sent Events)
// until the operation ends, updating the status and the step counter in place. No framework.
(function () {
  "use strict";
  var page = document.getElementById("operation");
  if (!page || page.dataset.finished === "true" || !window.EventSource) { return; }
  var log = document.getElementById("log");
  var counter = document.getElementById("counter");
  // The total is the plan's, fixed before the run starts (empty when no plan can say).
  var total = page.dataset.total === "" ? null : Number(page.dataset.total);
  var done = Number(page.dataset.done || 0);
  // One per resource per step, as the server counts (a replacement reports twice).
  var step = 0;
  var finished = {};
  var lastSeq = Number(page.dataset.lastSeq || 0);
  var source = new EventSource("/api/operations/" + page.dataset.id + "/events");
  source.onmessage = null;
  function show(event) {
    var data = JSON.parse(event.data);
    if (data.seq <= lastSeq) { return; }
    lastSeq = data.seq;
    log.textContent += (data.at || "").slice(11, 19) + "  " + data.message + "\n";
    var status = document.getElementById("status");
    if (status.textContent === "queued") {  // the log has started: the worker runs it
      status.textContent = "running";
      status.className = "status-running";
    }
    log.scrollTop = log.scrollHeight;
    if (data.type === "step_started") { step += 1; }
    if (data.type === "resource_outputs") {
      var key = step + " " + ((data.data && data.data.urn) || data.message);
      if (!finished[key]) { finished[key] = true; done += 1; }
    }
    if (counter) {
      counter.textContent = total === null
        ? done + (done === 1 ? " resource" : " resources") + " changed"
        : done + " of " + total + (total === 1 ? " planned resource" : " planned resources") +
          " changed";
    }
    if (data.type === "operation_finished" && data.data && data.data.status) {
      status.textContent = data.data.status;
      status.className = "status-" + data.data.status;
      var cancel = document.getElementById("cancel");
      if (cancel) { cancel.remove(); }
    }
  }
  ["operation_started", "step_started", "resource_pre", "resource_outputs", "resource_failed",
   "diagnostic", "summary", "recovery", "operation_finished"].forEach(function (type) {
    source.addEventListener(type, show);
  });
  source.addEventListener("end", function () {
    source.close();
    // The operation's record, for what only the end knows: timing and the summary.
    fetch("/api/operations/" + page.dataset.id, {credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (operation) {
        if (!operation) { return; }
        var started = operation.started_at ? new Date(operation.started_at) : null;
        var ended = operation.finished_at ? new Date(operation.finished_at) : null;
        if (started && ended) {
          document.getElementById("timing").textContent = "Started " +
            started.toISOString().slice(0, 19).replace("T", " ") + " UTC · ended " +
            ended.toISOString().slice(11, 19) + " UTC · took " +
            ((ended - started) / 1000).toFixed(1) + " s";
        }
        var changes = operation.changes;
        if (changes) {
          document.getElementById("summary").textContent = "Summary: " + changes.create +
            " created, " + changes.update + " updated, " + changes["delete"] + " deleted, " +
            changes.replace + " replaced, " + changes.same + " unchanged.";
        }
      });
  });
})();
