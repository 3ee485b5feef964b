// Merge or split: the split form lists the customer's messages of this conversation, including
// those that arrived after the page was drawn (they are read from the page when it opens).

import { el } from "./desk-api.js";

const menu = document.getElementById("merge-menu");
const choice = menu?.querySelector("select[name=message_id]");

if (menu && choice) {
  menu.addEventListener("toggle", () => {
    if (!menu.open) return;
    const chosen = choice.value;
    const messages = document.querySelectorAll("#messages li.msg-customer.msg-message[data-seq]");
    choice.replaceChildren(...[...messages].map((item) => {
      const text = item.querySelector(".msg-body")?.textContent || "";
      return el("option", { value: item.dataset.messageId, text: text.slice(0, 60) });
    }));
    if (chosen) choice.value = chosen;
    if (!choice.value && choice.options.length) choice.selectedIndex = choice.options.length - 1;
  });
}
