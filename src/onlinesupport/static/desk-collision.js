// Collision detection: who else has a conversation open, and who is typing a reply in it.
// The server sends "viewers" notices (a snapshot on connect, then every change) and the
// desks' "typing" notices; neither is stored. The list marks conversations others have
// open; the conversation says who is there and who is writing.

import { el } from "./desk-api.js";

const me = Number(document.body.dataset.agent);
const current = Number(document.body.dataset.conversation || 0);
const viewers = new Map(); // conversation id -> [{id, name}], without me
const typing = new Map(); // agent id -> {name, until}
const TYPING_SHOWN_MS = 5000;

function names(list) {
  return list.length <= 2 ? list.join(" and ") : `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;
}

function renderConversation() {
  const line = document.getElementById("collision");
  if (!line) return;
  const now = Date.now();
  for (const [id, who] of typing) if (who.until <= now) typing.delete(id);
  const writers = [...typing.values()].map((who) => who.name);
  const lookers = (viewers.get(current) || []).filter((a) => !typing.has(a.id)).map((a) => a.name);
  const parts = [];
  if (writers.length) parts.push(`${names(writers)} ${writers.length === 1 ? "is" : "are"} typing a reply…`);
  if (lookers.length) parts.push(`${names(lookers)} ${lookers.length === 1 ? "is" : "are"} viewing this conversation`);
  line.textContent = parts.join(" · ");
  line.hidden = parts.length === 0;
  line.classList.toggle("typing-now", writers.length > 0);
}

function markList() {
  for (const link of document.querySelectorAll("#conversation-list a[data-conversation-id]")) {
    const who = viewers.get(Number(link.dataset.conversationId)) || [];
    let mark = link.querySelector(".viewing");
    if (!who.length) { mark?.remove(); continue; }
    if (!mark) {
      mark = el("span", { class: "viewing" });
      link.querySelector(".row1")?.append(mark);
    }
    mark.textContent = `viewing: ${who.map((a) => a.name).join(", ")}`;
  }
}

window.addEventListener("desk:frame", ({ detail: data }) => {
  if (data.type === "hello") {
    // A new connection sends the whole state again: what was here is stale.
    viewers.clear();
    markList();
    renderConversation();
    return;
  }
  if (data.type === "event") {
    // Sent: the reply being typed is there now, so its author is no longer typing.
    const event = data.event;
    if (event.conversation_id === current && event.actor_type === "agent" && typing.delete(event.actor_id)) {
      renderConversation();
    }
    return;
  }
  if (data.type !== "notice") return;
  if (data.notice === "viewers") {
    const others = data.data.agents.filter((a) => a.id !== me);
    if (others.length) viewers.set(data.conversation_id, others);
    else viewers.delete(data.conversation_id);
    markList();
    if (data.conversation_id !== current) return;
    for (const id of typing.keys()) if (!others.some((a) => a.id === id)) typing.delete(id);
    renderConversation();
  } else if (data.notice === "typing" && data.data.author_type === "agent" && data.conversation_id === current) {
    typing.set(data.data.agent_id, { name: data.data.name, until: Date.now() + TYPING_SHOWN_MS });
    renderConversation();
    setTimeout(renderConversation, TYPING_SHOWN_MS + 50);
  }
});

// desk.js redraws the list after every change; mark it again each time.
const list = document.getElementById("conversation-list");
if (list) new MutationObserver(markList).observe(list, { childList: true });
