// Actions on several conversations: tick rows in the inbox (or press x), choose what to do in
// the bar above the list. The bar is a plain form that works without this script; this keeps
// the selection across live redraws of the list, shows only the field the action needs, and
// sends it without leaving the page.

import { command } from "./desk-api.js";

const form = document.getElementById("bulk");
const list = document.getElementById("conversation-list");
const selected = new Set();

function boxes() {
  return [...document.querySelectorAll("#conversation-list input.select")];
}

function render() {
  const count = document.getElementById("bulk-count");
  const all = document.getElementById("select-all");
  const shown = boxes();
  for (const box of shown) box.checked = selected.has(Number(box.value));
  if (count) count.textContent = selected.size ? `${selected.size} selected` : "Select all";
  if (all) {
    all.checked = shown.length > 0 && shown.every((box) => box.checked);
    all.indeterminate = selected.size > 0 && !all.checked;
  }
  form.classList.toggle("has-selection", selected.size > 0);
}

function showField() {
  const action = form.elements.action.value;
  for (const span of form.querySelectorAll("[data-for]")) span.hidden = span.dataset.for !== action;
}

if (form && list) {
  form.classList.add("live");
  list.addEventListener("change", (event) => {
    const box = event.target.closest("input.select");
    if (!box) return;
    if (box.checked) selected.add(Number(box.value));
    else selected.delete(Number(box.value));
    render();
  });
  document.getElementById("select-all")?.addEventListener("change", (event) => {
    for (const box of boxes()) {
      if (event.target.checked) selected.add(Number(box.value));
      else selected.delete(Number(box.value));
    }
    render();
  });
  form.elements.action.addEventListener("change", showField);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!selected.size) return;
    const fields = Object.fromEntries(new FormData(form));
    delete fields.csrf_token;
    delete fields.back;
    const status = document.getElementById("live");
    try {
      const result = await command("/conversations/bulk", { ...fields, ids: [...selected] });
      selected.clear();
      render();
      // Merged conversations are answered in the one they went into: not resolved, snoozed
      // or given to anyone here (the others are done).
      const skipped = (result.skipped || []).map((s) => `#${s.id} (merged into #${s.merged_into})`);
      form.dataset.result = `${result.changed} of ${result.selected} changed` +
        (skipped.length ? `; skipped ${skipped.join(", ")}: answer in the conversation each went into` : "");
    } catch (error) {
      form.dataset.result = error.message;
      if (status) status.title = error.message;
    }
    form.querySelector("output")?.remove();
    form.append(Object.assign(document.createElement("output"), { textContent: form.dataset.result, role: "status" }));
  });
  // desk.js redraws the list after every change: tick what is still selected.
  new MutationObserver(render).observe(list, { childList: true });
  showField();
  render();
}
