// The desk's working tools, each a module of its own (desk.js imports this one file).
import "./desk-collision.js";
import "./desk-notify.js";
import "./desk-keys.js";
import "./desk-bulk.js";
import "./desk-mentions.js";
import "./desk-organise.js";

// A time picked in a date-and-time field is the agent's own local time: send it with its
// offset (without this script the server reads it in the business's time zone).
document.addEventListener("submit", (event) => {
  for (const field of event.target.querySelectorAll("input[type=datetime-local][name]")) {
    const moment = new Date(field.value);
    if (!field.value || Number.isNaN(moment.getTime())) continue;
    const sent = Object.assign(document.createElement("input"), { type: "hidden", name: field.name, value: moment.toISOString() });
    field.removeAttribute("name");
    field.after(sent);
  }
}, { capture: true });
