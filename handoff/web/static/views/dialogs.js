/*
 * The two dialogs: transfer (to an agent or a team) and flag (pick the intent
 * the customer meant). Native <dialog>: focus is trapped, Escape cancels.
 */

import { h, replaceChildren } from "../dom.js";
import { label, t } from "../i18n.js";

export const TEAMS = ["after_sales", "logistics", "billing", "complaints"];

function closeButtons(dialog) {
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.onclick = () => dialog.close("cancel");
  }
}

/**
 * Asks where to transfer.
 * @param {Array<{username: string, online?: boolean}>} agents known agents (may be empty)
 * @param {string} me the current agent, left out of the list
 * @param {(target: Object) => Promise<string|null>} submit runs the transfer; an error text keeps the dialog open
 */
export function openTransferDialog(agents, me, submit) {
  const dialog = document.getElementById("transfer-dialog");
  const form = document.getElementById("transfer-form");
  const agentInput = document.getElementById("transfer-agent");
  const teamSelect = document.getElementById("transfer-team");
  const error = document.getElementById("transfer-error");
  const agentField = document.getElementById("transfer-agent-field");
  const teamField = document.getElementById("transfer-team-field");
  replaceChildren(
    document.getElementById("transfer-agent-options"),
    agents
      .filter((a) => a.username !== me)
      .map((a) => h("option", { value: a.username }, a.online === false ? `${a.username} · ${t("away")}` : a.username)),
  );
  replaceChildren(teamSelect, TEAMS.map((team) => h("option", { value: team }, label("team", team))));
  agentInput.value = "";
  error.textContent = "";
  const kind = () => form.querySelector("input[name=target-kind]:checked").value;
  const showKind = () => {
    agentField.hidden = kind() !== "agent";
    teamField.hidden = kind() !== "team";
    agentInput.required = kind() === "agent";
  };
  form.querySelector("input[value=agent]").checked = true;
  for (const radio of form.querySelectorAll("input[name=target-kind]")) radio.onchange = showKind;
  showKind();
  closeButtons(dialog);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const target = kind() === "agent" ? { agent: agentInput.value.trim() } : { team: teamSelect.value };
    if (target.agent === "") {
      agentInput.focus();
      return;
    }
    const problem = await submit(target);
    if (problem) error.textContent = problem;
    else dialog.close("ok");
  };
  dialog.showModal();
  agentInput.focus();
}

/**
 * Asks which intent a misunderstood bot turn should have answered.
 * @param {string[]} intents names for the picker
 * @param {string} quote the customer message that bot turn answered
 * @param {(intent: string) => Promise<string|null>} submit saves the flag; an error text keeps the dialog open
 */
export function openFlagDialog(intents, quote, submit) {
  const dialog = document.getElementById("flag-dialog");
  const form = document.getElementById("flag-form");
  const search = document.getElementById("flag-search");
  const fieldset = document.getElementById("flag-intents");
  const error = document.getElementById("flag-error");
  document.getElementById("flag-quote").textContent = quote || "";
  document.getElementById("flag-quote").hidden = !quote;
  error.textContent = "";
  search.value = "";
  const legend = fieldset.querySelector("legend");
  replaceChildren(
    fieldset,
    legend,
    intents.map((name, i) =>
      h(
        "label",
        { class: "intent-option", dataset: { intent: name } },
        h("input", { type: "radio", name: "intent", value: name, required: i === 0 }),
        h("span", {}, name),
      ),
    ),
  );
  search.oninput = () => {
    const wanted = search.value.trim().toLowerCase();
    for (const option of fieldset.querySelectorAll(".intent-option")) {
      option.hidden = wanted !== "" && !option.dataset.intent.toLowerCase().includes(wanted);
    }
  };
  search.onkeydown = (event) => {
    // Enter in the filter picks the first visible intent.
    if (event.key !== "Enter") return;
    event.preventDefault();
    const first = fieldset.querySelector(".intent-option:not([hidden]) input");
    if (first) {
      first.checked = true;
      first.focus();
    }
  };
  closeButtons(dialog);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=intent]:checked");
    if (!chosen) {
      search.focus();
      return;
    }
    const problem = await submit(chosen.value);
    if (problem) error.textContent = problem;
    else dialog.close("ok");
  };
  dialog.showModal();
  search.focus();
}
