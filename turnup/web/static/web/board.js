// The turn-up board: polls the run's JSON every second and redraws each device card.
// No framework: the server renders the first state, this script keeps it current.
(function () {
  "use strict";
  const board = document.getElementById("board");
  if (!board) return;
  const url = board.dataset.state;
  const terminal = new Set(["succeeded", "failed", "cancelled"]);

  function fmtSeconds(s) {
    if (s === null || s === undefined) return "";
    s = Math.max(0, Math.round(s));
    const m = Math.floor(s / 60);
    return m ? `${m}m ${String(s % 60).padStart(2, "0")}s` : `${s}s`;
  }

  function setText(root, selector, text) {
    const el = root.querySelector(selector);
    if (el && el.textContent !== text) el.textContent = text;
  }

  function card(dev) {
    let el = board.querySelector(`[data-device-id="${dev.device_id}"]`);
    if (!el) {
      el = document.getElementById("device-card-template").content.firstElementChild.cloneNode(true);
      el.dataset.deviceId = dev.device_id;
      board.appendChild(el);
    }
    el.className = `dev ${dev.status}`;
    el.dataset.status = dev.status;
    setText(el, ".name", dev.device);
    setText(el, ".console", dev.console || "");
    const badge = el.querySelector(".badge");
    badge.className = `badge b-${dev.status}`;
    badge.textContent = dev.status_label || dev.status;
    setText(el, ".elapsed", dev.elapsed_text || fmtSeconds(dev.elapsed));
    setText(el, ".step", dev.step_label || "");
    el.querySelector(".progress > span").style.width = `${Number(dev.percent || 0).toFixed(1)}%`;
    const bytes = dev.bytes_text || "";
    setText(el, ".bytes", bytes);
    setText(el, ".phases", dev.phases_text || "");
    const steps = el.querySelector(".steps");
    if (steps.children.length !== (dev.steps || []).length) {
      steps.innerHTML = "";
      for (const s of dev.steps || []) steps.appendChild(document.createElement("i"));
    }
    (dev.steps || []).forEach((s, i) => {
      const tick = steps.children[i];
      tick.className = s.status;
      tick.title = `${s.label || s.name}: ${s.status}`;
    });
    setText(el, "pre.log", (dev.log_tail || []).join("\n"));
    setText(el, ".result", dev.result || "");
    el.querySelector(".result").classList.toggle("finding", Boolean(dev.finding));
    const retry = el.querySelector(".retry");
    if (retry) retry.hidden = dev.status !== "failed";
  }

  function summary(state) {
    const run = state.run;
    const head = document.getElementById("run-head");
    if (!head) return;
    const badge = head.querySelector(".badge");
    badge.className = `badge b-${run.status}`;
    badge.textContent = run.status_label || run.status;
    setText(head, ".elapsed", run.elapsed_text || fmtSeconds(run.elapsed));
    setText(head, ".counts", run.counts_text || "");
    document.querySelectorAll("[data-when-running]").forEach((b) => (b.hidden = terminal.has(run.status)));
    document.querySelectorAll("[data-when-failed]").forEach((b) => (b.hidden = !(run.failed > 0) || !terminal.has(run.status)));
  }

  let timer = null;
  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if ([401, 403, 404].includes(response.status)) {
        // the session ended or the run is gone: polling again would not help
        let message = `The board stopped updating (HTTP ${response.status}).`;
        try {
          message = (await response.json()).message || message;
        } catch (e) {
          /* not JSON: keep the generic message */
        }
        const note = document.getElementById("board-stopped");
        if (note) {
          note.textContent = message;
          note.hidden = false;
        }
        board.dataset.stopped = String(response.status);
        return;
      }
      if (response.ok) {
        const state = await response.json();
        summary(state);
        state.devices.forEach(card);
        board.dataset.runStatus = state.run.status;
        if (terminal.has(state.run.status)) {
          board.dataset.settled = "1";
          return; // the run is over: stop polling
        }
      }
    } catch (e) {
      /* the server restarts: try again next tick */
    }
    timer = setTimeout(poll, 1000);
  }
  poll();
})();
