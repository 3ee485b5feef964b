// Alerts: a desktop notification and a sound for new chats, chat offers, mentions and late
// answers, each as the agent chose on the Alerts page; an in-page note for each; and the
// tab's title counting the conversations with news ("(3) Inbox"). Browsers allow sound only
// after the person has used the page, so the sound is made ready on the first click or key.

import { api, el } from "./desk-api.js";

const body = document.body;
const me = Number(body.dataset.agent || 0);
const ALL_ON = { desktop: true, sound: true };
let choices = null;
api("/api/preferences").then((data) => { choices = data.notifications; }).catch(() => {});

// ---- sound ------------------------------------------------------------------------------

let audio = null;
function unlockSound() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
  } catch (e) { audio = null; }
}
for (const type of ["pointerdown", "keydown"]) window.addEventListener(type, unlockSound, { capture: true });

// Two short notes; false when the browser does not let the page play sound yet.
export function chime() {
  if (!audio || audio.state !== "running") return false;
  const gain = audio.createGain();
  gain.gain.value = 0.06;
  gain.connect(audio.destination);
  [660, 880].forEach((frequency, i) => {
    const osc = audio.createOscillator();
    osc.frequency.value = frequency;
    osc.connect(gain);
    osc.start(audio.currentTime + i * 0.15);
    osc.stop(audio.currentTime + i * 0.15 + 0.12);
  });
  return true;
}

// ---- desktop notifications ----------------------------------------------------------------

function desktopAllowed() {
  return "Notification" in window && Notification.permission === "granted";
}

function showDesktop(title, text, link) {
  // Only when the agent is elsewhere: on a desk in front of them the page says it already.
  if (!desktopAllowed() || (document.visibilityState === "visible" && document.hasFocus())) return;
  const shown = new Notification(title, { body: text, tag: link });
  shown.addEventListener("click", () => { window.focus(); location.href = link; });
}

function offerPermission(button) {
  if (!button) return;
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
  if (button.hidden) return;
  button.addEventListener("click", async () => {
    await Notification.requestPermission();
    button.hidden = Notification.permission !== "default";
    describePermission();
  });
}
offerPermission(document.getElementById("notify"));

// ---- in the page ------------------------------------------------------------------------

let log = null;
function inPage(title, text, link) {
  if (!log) {
    log = el("div", { id: "alerts", class: "alerts", role: "log", "aria-live": "polite", "aria-label": "Alerts" });
    body.append(log);
  }
  const item = el("a", { href: link, class: "alert" }, el("strong", { text: title }), el("span", { text: text }));
  log.append(item);
  setTimeout(() => item.remove(), 12000);
}

export function notify(kind, title, text, link) {
  const want = (choices && choices[kind]) || ALL_ON;
  inPage(title, text, link);
  if (want.sound) chime();
  if (want.desktop) showDesktop(title, text, link);
}

// ---- what deserves an alert ---------------------------------------------------------------

const conversationLink = (id) => `/conversations/${id}`;

window.addEventListener("desk:frame", ({ detail: data }) => {
  if (data.type !== "event" || !me) return;
  const event = data.event;
  const d = event.data;
  const link = conversationLink(event.conversation_id);
  if (event.type === "conversation.created" && d.channel === "chat" && event.actor_type === "customer") {
    notify("chat", "New chat", d.subject || "A visitor started a chat.", link);
  } else if (event.type === "offer.made" && d.agent_id === me) {
    notify("offer", "A chat is offered to you", d.customer_name || "A visitor", link);
  } else if (event.type === "note.mentioned" && (d.agent_ids || []).includes(me)) {
    notify("mention", `${d.by || "A colleague"} mentioned you`, `In a note on #${event.conversation_id}`, link);
  } else if ((event.type === "sla.warning" || event.type === "sla.breached") && (d.notify || []).includes(me)) {
    const which = d.target === "next_response" ? "next" : "first";
    notify("breach", `#${event.conversation_id}: the ${which} answer ${event.type === "sla.breached" ? "is late" : "is due soon"}`,
      "Open the conversation to answer.", link);
  }
});

// ---- the tab's title ------------------------------------------------------------------------

const baseTitle = document.title;
function countNews() {
  const fresh = document.querySelectorAll("#conversation-list a.has-unread").length;
  document.title = fresh ? `(${fresh}) ${baseTitle}` : baseTitle;
}
const list = document.getElementById("conversation-list");
if (list) {
  new MutationObserver(countNews).observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
  countNews();
}

// ---- the Alerts page's buttons ------------------------------------------------------------

function describePermission() {
  const state = document.getElementById("permission-state");
  if (!state) return;
  if (!("Notification" in window)) state.textContent = "This browser shows no desktop notifications.";
  else if (Notification.permission === "granted") state.textContent = "Desktop notifications are allowed in this browser.";
  else if (Notification.permission === "denied") state.textContent = "This browser blocks desktop notifications from the desk; allow them in its site settings.";
  else state.textContent = "Desktop notifications need your permission in this browser.";
}
describePermission();
offerPermission(document.getElementById("allow-notifications"));
document.getElementById("test-sound")?.addEventListener("click", (event) => {
  unlockSound();
  // The context may need a moment to start after the click that unlocked it.
  setTimeout(() => { event.target.textContent = chime() ? "Played" : "No sound: check the browser"; }, 100);
});
