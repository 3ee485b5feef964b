// Keyboard shortcuts. "?" shows them all; the sheet is drawn from SHORTCUTS, so what it says
// is what the keys do. Single keys act only when no text field has the focus.

import { command, el } from "./desk-api.js";

const body = document.body;
const conversationId = Number(body.dataset.conversation || 0);

const SHORTCUTS = [
  ["?", "Show these shortcuts"],
  ["j", "Next conversation in the list"],
  ["k", "Previous conversation in the list"],
  ["r", "Reply to the customer"],
  ["n", "Write an internal note (type @ to mention a colleague)"],
  ["Ctrl+Enter", "Send the reply or note"],
  ["e", "Resolve, then open the next conversation"],
  ["a", "Assign the conversation to me"],
  ["s", "Snooze the conversation"],
  ["x", "Select the conversation for an action on several"],
  ["/", "Search"],
  ["Esc", "Leave the text box, close menus and this sheet"],
];

function links() {
  return [...document.querySelectorAll("#conversation-list a[data-conversation-id]")];
}

// The conversation `step` rows away from the open one (the first one when none is open).
function neighbour(step) {
  const all = links();
  const at = all.findIndex((a) => Number(a.dataset.conversationId) === conversationId);
  if (at === -1) return step > 0 ? all[0] : all.at(-1);
  return all[at + step];
}

function go(link) {
  if (link) location.href = link.href;
}

// ---- the reply box: reply or note -------------------------------------------------------

const composer = document.getElementById("composer");

export function compose(mode) {
  if (!composer) return;
  composer.dataset.mode = mode;
  const box = composer.querySelector("textarea");
  let label = document.getElementById("composer-mode");
  if (!label) {
    label = el("p", { id: "composer-mode", class: "composer-mode", role: "status" });
    composer.prepend(label);
  }
  label.textContent = mode === "note" ? "Internal note: only agents see it. Ctrl+Enter adds it." : "";
  label.hidden = mode !== "note";
  box.placeholder = mode === "note" ? "Write a note for your colleagues… (@ mentions someone)"
    : "Write a reply… (Ctrl+Enter sends, / for canned replies)";
  box.focus();
}
window.addEventListener("desk:compose", ({ detail }) => compose(detail));

// ---- actions ------------------------------------------------------------------------------

async function act(path, done) {
  const live = document.getElementById("live");
  try {
    await command(path);
    done();
  } catch (error) {
    if (live) live.title = error.message;
    const message = document.getElementById("composer-error");
    if (message) message.textContent = error.message;
  }
}

function resolveAndNext() {
  if (!conversationId) return;
  const next = neighbour(1) || neighbour(-1);
  act(`/conversations/${conversationId}/resolve`, () => {
    if (next && Number(next.dataset.conversationId) !== conversationId) go(next);
    else location.href = `/inbox?view=${body.dataset.view || "open"}`;
  });
}

function openMenu(id) {
  const menu = document.getElementById(id);
  if (!menu) return;
  menu.open = true;
  menu.querySelector("button, input:not([type=hidden]), select")?.focus();
}

function toggleSelected() {
  const box = document.querySelector(`#conversation-list input.select[value="${conversationId}"]`);
  if (!box) return;
  box.checked = !box.checked;
  box.dispatchEvent(new Event("change", { bubbles: true }));
}

// ---- the sheet --------------------------------------------------------------------------

let sheet = null;
function showSheet() {
  if (!sheet) {
    sheet = el("dialog", { id: "shortcuts", class: "shortcuts", "aria-labelledby": "shortcuts-title" },
      el("h2", { id: "shortcuts-title", text: "Keyboard shortcuts" }),
      el("dl", {}, ...SHORTCUTS.flatMap(([keys, what]) => [el("dt", {}, el("kbd", { text: keys })), el("dd", { text: what })])),
      el("form", { method: "dialog" }, el("button", { type: "submit", text: "Close" })));
    body.append(sheet);
  }
  sheet.showModal();
}

// ---- keys ---------------------------------------------------------------------------------

const ACTIONS = {
  "?": showSheet,
  j: () => go(neighbour(1)),
  k: () => go(neighbour(-1)),
  r: () => compose("message"),
  n: () => compose("note"),
  e: resolveAndNext,
  a: () => conversationId && act(`/conversations/${conversationId}/assign`, () => {}),
  s: () => openMenu("snooze-menu"),
  x: toggleSelected,
  "/": () => document.getElementById("topsearch")?.focus(),
};

function typingInField(target) {
  return target instanceof HTMLElement && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") {
    for (const menu of document.querySelectorAll("details[open]")) menu.open = false;
    if (typingInField(event.target)) event.target.blur();
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || typingInField(event.target)) return;
  if (sheet && sheet.open) return;
  const action = ACTIONS[event.key];
  if (!action) return;
  event.preventDefault();
  action();
});
