// "@" in the reply box lists colleagues; choosing one writes "@Their Name" and turns the box
// into an internal note (a mention tells the colleague only from a note, never the customer).

import { api, el } from "./desk-api.js";
import { picker } from "./desk-picker.js";

const box = document.getElementById("reply-body");
const composer = document.getElementById("composer");
const me = Number(document.body.dataset.agent || 0);

if (box && composer) {
  const menu = el("ul", { id: "mention-menu", class: "canned-menu", role: "listbox", "aria-label": "Colleagues", hidden: "" });
  composer.append(menu);
  let colleagues = null;
  let start = -1;
  picker(box, menu, {
    search: async () => {
      const before = box.value.slice(0, box.selectionStart);
      const typed = /(^|\s)@([\p{L}\p{N}._-]{0,30})$/u.exec(before);
      if (!typed) return null;
      if (colleagues === null) colleagues = (await api("/api/agents")).agents.filter((a) => a.id !== me);
      const wanted = typed[2].toLowerCase();
      start = before.length - typed[2].length - 1;
      return colleagues.filter((a) => a.name.toLowerCase().startsWith(wanted)
        || a.name.toLowerCase().split(/\s+/).some((part) => part.startsWith(wanted)));
    },
    render: (agent) => el("li", { id: `mention-${agent.id}`, text: agent.name }),
    choose: (agent) => {
      const caret = box.selectionStart;
      box.value = `${box.value.slice(0, start)}@${agent.name} ${box.value.slice(caret)}`;
      const at = start + agent.name.length + 2;
      window.dispatchEvent(new CustomEvent("desk:compose", { detail: "note" }));
      box.setSelectionRange(at, at);
      box.dispatchEvent(new Event("input"));
    },
  });
}
