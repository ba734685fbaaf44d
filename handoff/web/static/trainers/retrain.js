/*
 * The admins' retrain button on the trainers' page, with the job's progress.
 *
 * POST /api/retrain starts `bot retrain --from-service` on the Rasa side;
 * GET /api/retrain is polled while it runs and shows its stage and log
 * (the log is the command's own output, shown as text).
 */

import { ApiError, request } from "/inbox/api.js";
import { h, replaceChildren } from "/inbox/dom.js";
import { t } from "./i18n.js";

const POLL_MS = 1500;
const $ = (id) => document.getElementById(id);
let latest = null;
let timer = null;

function render() {
  const panel = $("retrain-panel");
  const button = $("retrain-button");
  if (!latest) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  panel.dataset.state = latest.state;
  const running = latest.state === "running";
  button.disabled = running;
  $("retrain-state").textContent = t(`retrain_${latest.state}`, { n: latest.number });
  const reached = latest.stages.indexOf(latest.stage);
  replaceChildren(
    $("retrain-stages"),
    ...latest.stages.map((stage, index) => {
      const done = index < reached || (index === reached && latest.state === "promoted");
      const now = index === reached && running;
      return h(
        "li",
        {
          class: done ? "done" : now ? "current" : "",
          "aria-current": now ? "step" : null,
          dataset: { stage },
        },
        t(`stage_${stage}`),
      );
    }),
  );
  $("retrain-log").textContent = (latest.log || []).join("\n");
}

function show(job) {
  latest = job;
  render();
  clearTimeout(timer);
  if (job && job.state === "running") timer = setTimeout(poll, POLL_MS);
}

async function poll() {
  try {
    show(await request("GET", "/api/retrain"));
  } catch (error) {
    timer = setTimeout(poll, POLL_MS * 2); // the Rasa side may be busy; keep following
  }
}

/** Shows the button to admins and the latest job, if any. */
export function setUpRetrain(me, failed) {
  if (!me || me.role !== "admin") return;
  const button = $("retrain-button");
  button.hidden = false;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      show(await request("POST", "/api/retrain"));
    } catch (error) {
      button.disabled = false;
      if (error instanceof ApiError && error.status === 409) poll();
      else failed(error);
    }
  });
  request("GET", "/api/retrain")
    .then(show)
    .catch(() => show(null)); // 404: never retrained; 502: the Rasa side is down
}

/** Redraws in the current language. */
export function renderRetrain() {
  render();
}
