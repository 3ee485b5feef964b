// The live desk: keeps the inbox and the open conversation current over the agent websocket.
// The page works without this script (plain forms); this adds live updates and sending
// without a reload. Every event carries a global id; after a dropped connection the socket
// resumes from the last id seen, so nothing another agent did is missed. The desk's other
// tools (collision, alerts, keyboard, bulk actions, mentions) are modules of their own that
// hear every socket frame as a "desk:frame" event.

import { api, el } from "./desk-api.js";
import "./desk-features.js";
import { picker } from "./desk-picker.js";

const body = document.body;
const view = body.dataset.view || "open";
const sort = body.dataset.sort || "recent";
const queueFilter = body.dataset.queue || "";
const conversationId = body.dataset.conversation ? Number(body.dataset.conversation) : null;
let lastSeq = Number(body.dataset.lastSeq || 0);
// Pages that show no events (search) start from wherever the server is now.
let lastEventId = body.dataset.since === undefined ? null : Number(body.dataset.since);
const live = document.getElementById("live");
let socket = null;
// A form sent the ordinary way (no script took it over) is taking this page elsewhere. Window
// listeners run last, so by then every script that takes a form has said so.
let leaving = false;
window.addEventListener("submit", (sent) => { if (!sent.defaultPrevented) leaving = true; });

function randomId() {
  // crypto.randomUUID needs a secure context; the desk is often plain HTTP on the LAN.
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}


// ---- what this agent has seen, and unsent drafts (kept in this browser) -------------------

const seenKey = (id) => `onlinesupport:seen:${id}`;
const draftKey = (id) => `onlinesupport:draft:${id}`;

function markUnread(link) {
  const id = link.dataset.conversationId;
  const total = Number(link.dataset.lastSeq || 0);
  const seen = Number(localStorage.getItem(seenKey(id)) || 0);
  const badge = link.querySelector(".unread");
  // A merged conversation has nothing left to read here: what it holds is read where it went.
  const fresh = Number(id) === conversationId || link.dataset.merged ? 0 : Math.max(0, total - seen);
  badge.hidden = fresh === 0;
  badge.textContent = `${fresh} new`;
  link.classList.toggle("has-unread", fresh > 0);
}

function markSeen() {
  if (!conversationId) return;
  localStorage.setItem(seenKey(conversationId), String(lastSeq));
  // Tell the customer only what an agent could actually see.
  if (document.visibilityState === "visible") sendFrame({ type: "read", conversation_id: conversationId, seq: lastSeq });
}
document.addEventListener("visibilitychange", markSeen);

document.querySelectorAll("#conversation-list a[data-conversation-id]").forEach(markUnread);
markSeen();

// ---- inbox list -------------------------------------------------------------------------

function renderInbox(data) {
  const list = document.getElementById("conversation-list");
  if (!list) return;
  const filters = body.dataset.filters ? `&${body.dataset.filters}` : "";
  const items = data.conversations.map((c) => {
    // A customer who gave only an email address is named by it.
    const who = c.customer_name || c.customer_email || "Unknown customer";
    const link = el("a", { href: `/conversations/${c.id}?view=${view}${filters}`, "data-conversation-id": String(c.id),
      "data-last-seq": String(c.last_seq), ...(c.merged_into ? { "data-merged": String(c.merged_into) } : {}) },
      el("span", { class: "row1" },
        el("strong", { class: "who", text: who }),
        el("span", { class: "unread", hidden: "" }),
        c.snoozed_at ? el("span", { class: "tag snoozed", text: "snoozed" }) : null,
        c.overdue ? el("span", { class: "tag urgent", text: "overdue" })
          : c.priority > 0 ? el("span", { class: "tag", text: `P${c.priority}` }) : null,
        el("span", { class: "channel", text: c.channel })),
      el("span", { class: "subject", text: c.subject || c.preview || "(no subject)" }),
      c.callback_by ? el("span", { class: "callback-by", text: c.callback_by }) : null,
      el("span", { class: "row3" },
        el("span", {}, el("span", { class: "assignee", text: c.assignee_name || "Unassigned" }), " · ",
          el("span", { class: "queue", text: c.queue })),
        el("time", { datetime: c.last_message_at })));  // times.js writes the text
    const item = el("li", {}, el("input", { type: "checkbox", class: "select", form: "bulk", name: "ids",
      value: String(c.id), "aria-label": `Select ${who}` }), link);
    if (c.id === conversationId) item.setAttribute("aria-current", "true");
    markUnread(link);
    return item;
  });
  if (items.length === 0) items.push(el("li", { class: "empty", id: "empty-inbox", text: "No conversations here." }));
  list.replaceChildren(...items);
  for (const [key, count] of Object.entries(data.counts)) {
    const badge = document.querySelector(`[data-count="${key}"]`);
    if (badge) badge.textContent = String(count);
  }
}

// Events that change no row of the list: a visitor's page views and rating, delivery news,
// offers (an accepted one comes with its assignment), scripts, routing notes, and what the
// reports record of a waiting visitor (leaving, coming back, a proactive message's chat).
const QUIET_EVENTS = new Set(["page.viewed", "conversation.rated", "rule.fired",
  "email.queued", "email.deferred", "email.sent", "email.failed",
  "chat.left", "chat.returned", "proactive.chat_started"]);
function changesInbox(type) {
  return !QUIET_EVENTS.has(type) && !type.startsWith("offer.") && !type.startsWith("script.");
}

let inboxTimer = null;
function refreshInboxSoon() {
  clearTimeout(inboxTimer);
  inboxTimer = setTimeout(async () => {
    try {
      const filters = body.dataset.filters || `queue=${queueFilter}`;
      renderInbox(await api(`/api/conversations?view=${encodeURIComponent(view)}&sort=${sort}&${filters}`));
    } catch (error) {
      console.warn("inbox refresh failed", error);
    }
  }, 150);
}

// ---- open conversation ------------------------------------------------------------------

function appendMessage(m) {
  const list = document.getElementById("messages");
  if (!list || list.querySelector(`[data-seq="${m.seq}"]`)) return;
  const typing = document.getElementById("typing");
  if (typing && m.author_type === "customer") typing.remove();
  const head = el("div", { class: "msg-head" },
    el("strong", { text: m.author_name || (m.author_type === "customer" && document.body.dataset.customerEmail) || m.author_type }),
    m.kind === "note" ? el("span", { class: "tag", text: "internal note" }) : null,
    el("time", { datetime: m.created_at }));
  const hasFiles = m.attachments && m.attachments.length;
  const files = hasFiles
    ? el("div", { class: "files" }, ...m.attachments.map((a) => el("a",
      { href: `/attachments/${a.id}`, class: "file", target: "_blank", rel: "noopener" },
      a.content_type.startsWith("image/") ? el("img", { src: `/attachments/${a.id}`, alt: a.filename, class: "thumb" }) : null,
      el("span", { text: `${a.filename} (${(a.size / 1024).toFixed(1)} KB)` }))))
    : null;
  const mail = m.email;
  let body = [];
  if (m.body && (!hasFiles || mail)) {
    // quote_at counts characters (code points), as the server does.
    const chars = Array.from(m.body);
    const cut = mail && mail.quote_at ? mail.quote_at : chars.length;
    body = [el("div", { class: "msg-body", text: chars.slice(0, cut).join("") })];
    if (cut < chars.length) {
      body.push(el("details", { class: "quoted" }, el("summary", { text: "Quoted text" }),
        el("div", { class: "msg-body", text: chars.slice(cut).join("") })));
    }
  }
  const item = el("li", { class: `msg msg-${m.author_type} msg-${m.kind}`, "data-seq": String(m.seq),
    "data-message-id": String(m.id) },
    head, mail && mail.warning ? el("p", { class: "mail-warning", role: "note", text: mail.warning }) : null,
    ...body, files, mail ? el("div", { class: "mail-meta" }, ...mailMeta(m.id, mail)) : null);
  list.append(item);
  if (earlyDelivery.has(m.id)) showDelivery(earlyDelivery.get(m.id));
  lastSeq = Math.max(lastSeq, m.seq);
  markSeen();
  list.scrollTop = list.scrollHeight;
}

function mailMeta(messageId, mail) {
  if (mail.direction === "in") {
    return [el("a", { href: `/mail/${messageId}/original`, text: "Original mail" }),
      mail.has_html ? document.createTextNode(" · ") : null,
      mail.has_html ? el("a", { href: `/mail/${messageId}/formatted`, target: "_blank", rel: "noopener", text: "Formatted" }) : null];
  }
  const text = mail.status === "sent" ? `Emailed to ${mail.to}`
    : mail.status === "failed" ? `Not delivered: ${mail.error}`
      : mail.error ? `Not sent yet (${mail.error}); retrying` : "Email queued";
  const parts = [el("span", { class: `delivery delivery-${mail.status}`, text })];
  if (mail.status === "failed" && mail.outbox_id) {
    const button = el("button", { type: "button", text: "Resend" });
    button.addEventListener("click", () => {
      api(`/outbox/${mail.outbox_id}/resend`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" })
        .catch((e) => { button.replaceWith(el("span", { class: "error", text: e.message })); });
    });
    parts.push(document.createTextNode(" "), button);
  }
  return parts;
}

const MAIL_STATUS = { "email.queued": "queued", "email.deferred": "queued", "email.sent": "sent", "email.failed": "failed" };

// Delivery news that came before its message was drawn (the socket can beat the reply's own
// response): kept here and applied when the message appears.
const earlyDelivery = new Map();

function showDelivery(event) {
  const status = MAIL_STATUS[event.type];
  if (!status || event.data.purpose === "ack" || !event.data.message_id) return;
  const item = document.querySelector(`[data-message-id="${event.data.message_id}"]`);
  if (!item) {
    earlyDelivery.set(event.data.message_id, event);
    return;
  }
  earlyDelivery.delete(event.data.message_id);
  // A reply this desk just sent was drawn before its mail was queued: add the line for it.
  let meta = item.querySelector(".mail-meta");
  if (!meta) meta = item.appendChild(el("div", { class: "mail-meta" }));
  meta.replaceChildren(...mailMeta(event.data.message_id, {
    direction: "out", status, to: event.data.to, outbox_id: event.data.outbox_id,
    error: event.type === "email.queued" ? "" : (event.data.error || "") }));
}

// A due line of the open conversation ("first answer due …"): hidden once nothing is due.
function showDue(id, label, due, breached) {
  const line = document.getElementById(id);
  if (!line) return;
  line.hidden = !due;
  if (due) {
    line.replaceChildren(" · ", el("span", { class: breached ? "due overdue" : "due" },
      `${breached ? "overdue: " : ""}${label} due `, el("time", { datetime: due })));
  }
}

// The header's buttons that depend on the conversation's state: each pair is on the page,
// one of them hidden (see inbox.html).
function showActions(c) {
  const mine = c.assignee_id === Number(body.dataset.agent);
  const ended = c.status === "resolved" || c.status === "closed";
  const shown = { "assign-me": !mine && !c.merged_into, release: mine, reopen: !c.merged_into && ended, resolve: !c.merged_into && !ended };
  for (const [id, show] of Object.entries(shown)) {
    const form = document.getElementById(id);
    if (form) form.hidden = !show;
  }
  // Nobody is transferred to the agent who has the conversation already.
  for (const option of document.querySelectorAll("form[action*='/transfer'] option")) {
    const current = Number(option.value) === c.assignee_id;
    option.hidden = option.disabled = current;
    if (current && option.selected) option.selected = false;
  }
  showDue("next-due", "next answer", c.next_response_due_at, c.next_breached_at);
  showDue("first-due", "first answer", c.first_response_at ? null : c.first_response_due_at, c.sla_breached_at);
}

async function catchUpConversation() {
  if (!conversationId) return;
  const data = await api(`/api/conversations/${conversationId}?after=${lastSeq}`);
  data.messages.forEach(appendMessage);
  showActions(data.conversation);
  const status = document.getElementById("status");
  if (status) { status.textContent = data.conversation.status; status.dataset.status = data.conversation.status; }
  const assignee = document.getElementById("assignee");
  if (assignee) assignee.textContent = data.conversation.assignee_name || "Unassigned";
  const participants = document.getElementById("participants");
  if (participants) {
    // The assignee is named already; "with" lists the others taking part.
    const others = data.participants.filter((p) => p.id !== data.conversation.assignee_id);
    participants.textContent = others.length ? " with " + others.map((p) => p.name).join(", ") : "";
  }
}

const composer = document.getElementById("composer");
if (composer) {
  const textarea = composer.querySelector("textarea");
  const error = document.getElementById("composer-error");
  // One id per message being written: a retry after a network error cannot post it twice.
  let pendingId = randomId();
  // A half-written reply survives moving to another conversation and back.
  textarea.value = localStorage.getItem(draftKey(conversationId)) || "";
  textarea.addEventListener("input", () => {
    if (textarea.value) localStorage.setItem(draftKey(conversationId), textarea.value);
    else localStorage.removeItem(draftKey(conversationId));
  });
  let sending = false;
  async function send(kind) {
    const text = textarea.value;
    if (!text.trim() || sending) return;
    sending = true;
    error.textContent = "";
    try {
      const data = await api(`/conversations/${conversationId}/messages`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ body: text, kind, client_id: pendingId }),
      });
      appendMessage(data.message);
      if (textarea.value === text) {
        textarea.value = "";
        localStorage.removeItem(draftKey(conversationId));
      }
      pendingId = randomId();
    } catch (e) {
      error.textContent = `Not sent: ${e.message} Your text is kept; try again.`;
    } finally {
      sending = false;
    }
  }
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    send(event.submitter && event.submitter.value === "note" ? "note" : "message");
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      send(composer.dataset.mode === "note" ? "note" : "message");
    }
  });
}

// ---- canned replies: "/" in the reply box ---------------------------------------------

function fillVariables(text) {
  const customer = body.dataset.customerName || "";
  return text
    .replaceAll("{customer.name}", customer)
    .replaceAll("{customer.first_name}", customer.split(" ")[0])
    .replaceAll("{agent.name}", body.dataset.agentName || "");
}

const cannedMenu = document.getElementById("canned-menu");
const cannedBox = document.getElementById("reply-body");
if (cannedMenu && cannedBox) {
  let replies = null;
  picker(cannedBox, cannedMenu, {
    search: async (box) => {
      const text = box.value;
      if (!text.startsWith("/") || text.includes("\n") || text.length > 40) return null;
      if (replies === null) replies = (await api("/api/canned")).replies;
      const wanted = text.slice(1).toLowerCase();
      return replies.filter((r) => r.shortcut.startsWith(wanted) || r.title.toLowerCase().includes(wanted));
    },
    render: (reply) => el("li", { id: `canned-${reply.id}` },
      el("code", { text: "/" + reply.shortcut }), document.createTextNode(" " + reply.title)),
    choose: (reply) => {
      cannedBox.value = fillVariables(reply.body);
      cannedBox.focus();
    },
  });
}

// ---- presence, typing, new-chat alerts ------------------------------------------------

function sendFrame(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

const presence = document.getElementById("presence");
if (presence) {
  presence.hidden = false;
  presence.value = localStorage.getItem("onlinesupport:presence") || "online";
  presence.addEventListener("change", () => {
    localStorage.setItem("onlinesupport:presence", presence.value);
    sendFrame({ type: "presence", status: presence.value });
  });
}

const replyBox = document.getElementById("reply-body");
let typingSentAt = 0;
if (replyBox && conversationId) {
  replyBox.addEventListener("input", () => {
    if (Date.now() - typingSentAt < 2000) return;
    typingSentAt = Date.now();
    sendFrame({ type: "typing", conversation_id: conversationId });
  });
}

let typingTimer = null;
function showTyping() {
  const list = document.getElementById("messages");
  if (!list) return;
  let note = document.getElementById("typing");
  if (!note) {
    note = el("li", { id: "typing", class: "typing", text: "The customer is typing…" });
    list.append(note);
  }
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => note.remove(), 4000);
}

// Desktop notifications and sounds are desk-notify.js's (each agent chooses which they want).
// A manager of the conversation's queue hears of answers about to be late, and late ones.
function alertLate(event) {
  const me = Number(body.dataset.agent);
  if (!(event.data.notify || []).includes(me)) return;
  const text = `#${event.conversation_id}: the ${event.data.target === "next_response" ? "next" : "first"} answer ` +
    (event.type === "sla.breached" ? "is late" : "is due soon");
  if (live) live.title = text;
  const note = document.getElementById("late-alert");
  if (note) { note.textContent = text; note.hidden = false; }
}

// ---- chat offers: a new chat offered to this agent, to accept or pass on ------------------

let offerTimer = 0;
function hideOffer(conversation) {
  const box = document.getElementById("offer");
  if (box && (conversation === undefined || Number(box.dataset.conversation) === conversation)) {
    box.hidden = true;
    clearInterval(offerTimer);
  }
}

function showOffer(event) {
  const box = document.getElementById("offer");
  if (!box) return;
  const until = Date.now() + event.data.seconds * 1000;
  box.dataset.conversation = String(event.conversation_id);
  box.querySelector(".who").textContent = event.data.customer_name || "A visitor";
  const left = box.querySelector(".left");
  const tick = () => {
    const seconds = Math.max(0, Math.round((until - Date.now()) / 1000));
    left.textContent = `${seconds} s`;
    if (!seconds) hideOffer(event.conversation_id);
  };
  clearInterval(offerTimer);
  tick();
  offerTimer = setInterval(tick, 1000);
  box.hidden = false;
}

document.getElementById("offer")?.addEventListener("click", async (e) => {
  const action = e.target.closest("button")?.dataset.action;
  if (!action) return;
  const box = document.getElementById("offer");
  const id = Number(box.dataset.conversation);
  hideOffer(id);
  try {
    await api(`/conversations/${id}/offer`, { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ action }) });
    if (action === "accept") location.href = `/conversations/${id}?view=mine`;
  } catch (error) { if (live) live.title = error.message; }
});

// An offer made before this page loaded (a reload, a slow start) is shown from the page itself.
{
  const box = document.getElementById("offer");
  if (box?.dataset.pending) {
    showOffer({ conversation_id: Number(box.dataset.pending),
      data: { seconds: Number(box.dataset.seconds), customer_name: box.dataset.who } });
  }
}

function onOfferEvent(event) {
  const me = Number(body.dataset.agent);
  if (event.type === "offer.made" && event.data.agent_id === me) showOffer(event);
  else if (event.type.startsWith("offer.") || event.type === "conversation.assigned") hideOffer(event.conversation_id);
}

// ---- websocket --------------------------------------------------------------------------

function setLive(up) {
  if (!live) return;
  live.textContent = up ? "● Live" : "Reconnecting…";
  live.classList.toggle("down", !up);
  body.dataset.live = up ? "up" : "down";
}

let attempt = 0;
function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const since = lastEventId === null ? "" : `since=${lastEventId}`;
  const viewing = conversationId ? `viewing=${conversationId}` : "";
  socket = new WebSocket(`${scheme}//${location.host}/api/ws?${[since, viewing].filter(Boolean).join("&")}`);
  socket.addEventListener("open", () => {
    attempt = 0;
    setLive(true);
    markSeen();
    if (presence) sendFrame({ type: "presence", status: presence.value });
  });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    const tell = () => window.dispatchEvent(new CustomEvent("desk:frame", { detail: data }));
    if (data.type !== "event") tell();
    if (data.type === "reset") { location.reload(); return; }
    if (data.type === "hello") { if (lastEventId === null) lastEventId = data.since; return; }
    if (data.type === "notice") {
      if (data.notice === "typing" && data.conversation_id === conversationId && data.data.author_type !== "agent") showTyping();
      return;
    }
    if (data.type !== "event") return;
    const event = data.event;
    if (event.id <= lastEventId) return;
    lastEventId = event.id;
    tell();
    if (changesInbox(event.type)) refreshInboxSoon();
    if (event.type === "sla.warning" || event.type === "sla.breached") alertLate(event);
    if (event.type.startsWith("offer.") || event.type === "conversation.assigned") onOfferEvent(event);
    if (event.conversation_id !== conversationId) return;
    if (event.type === "script.advanced") {
      const progress = document.getElementById("script-progress");
      if (progress) progress.textContent = `Script “${event.data.title}”: ${event.data.sent} of ${event.data.total} questions sent`;
    }
    if (event.type === "script.finished" || event.type === "script.stopped") {
      const bar = document.getElementById("script-bar");
      if (bar) bar.hidden = true;
    }
    if (event.type === "conversation.rated") {
      const rating = document.getElementById("rating");
      if (rating) {
        rating.textContent = ` · rated ${event.data.score}/5` + (event.data.comment ? `: “${event.data.comment}”` : "");
      }
      return;
    }
    if (event.type in MAIL_STATUS) {
      showDelivery(event);
      return;
    }
    if (event.type === "page.viewed") {
      const trail = document.getElementById("trail");
      if (trail) {
        trail.append(el("li", { class: "wrap" }, document.createTextNode(event.data.title || event.data.url),
          el("br"), el("small", { text: event.data.url })));
      }
      return;
    }
    if (event.type === "conversation.merged" || event.type === "conversation.merged_in") {
      // A merge changes what the page is drawn from: the histories merged in (in time order),
      // or the composer giving way to where to answer. Draw it again; a draft is kept. Not
      // when this page is already on its way elsewhere (its own merge form's answer), or the
      // reload would win over that navigation.
      if (!leaving) location.reload();
      return;
    }
    catchUpConversation().catch((e) => console.warn("catch-up failed", e));
  });
  socket.addEventListener("close", (closed) => {
    // Signed out (here or elsewhere), disabled, or given another role: the page follows.
    if (closed.code === 4401) { location.reload(); return; }
    setLive(false);
    // Exponential backoff with jitter, at most 15 s between tries.
    const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    clearTimeout(retry);
    retry = setTimeout(connect, delay);
  });
}

// ---- knowledge base: search from a conversation, insert a link or the text -----------------

function insertIntoReply(text) {
  const box = document.getElementById("reply-body");
  const at = box.selectionStart ?? box.value.length;
  const before = box.value.slice(0, at);
  const gap = before && !before.endsWith("\n") ? "\n" : "";
  box.value = `${before}${gap}${text}${box.value.slice(at)}`;
  box.focus();
}

const kbSearch = document.getElementById("kb-search");
kbSearch?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const list = document.getElementById("kb-results");
  const q = document.getElementById("kb-q").value.trim();
  if (!q) return;
  const { articles } = await api(`/api/kb/search?q=${encodeURIComponent(q)}`);
  list.replaceChildren(...articles.map((a) => {
    const snippet = el("div", { class: "hint" });
    snippet.innerHTML = a.snippet; // escaped by the server, with <mark> around the matches
    const item = el("li", {}, el("strong", { text: a.title }),
      a.internal ? el("small", { text: " (agents only)" }) : null, snippet);
    if (a.url) {
      const link = el("button", { type: "button", text: "Insert link" });
      link.addEventListener("click", () => insertIntoReply(`${a.title}: ${a.url}`));
      item.append(link, " ");
    }
    const text = el("button", { type: "button", text: "Insert text" });
    text.addEventListener("click", () => insertIntoReply(a.text));
    item.append(text);
    return item;
  }));
  if (!articles.length) list.replaceChildren(el("li", { text: "No article matches." }));
});

let retry = 0;
// A socket can look open long after the network went: trust the browser's word instead.
window.addEventListener("offline", () => { if (socket) socket.close(); });
window.addEventListener("online", () => {
  attempt = 0;
  if (socket && socket.readyState === WebSocket.CLOSED) { clearTimeout(retry); connect(); }
});

connect();
