// OnlineSupport chat widget. Add to a website with:
//   <script src="https://SUPPORT-HOST:8080/widget.js" async></script>
// Optional attributes: data-position="left", data-open="true", and the website's signed-in
// user: data-user-id, data-user-email, data-user-name, data-user-hash (docs/website-chat.md).
// No framework, no third-party request. Everything lives in a Shadow DOM so the page's CSS and
// ours never meet. Messages not yet acknowledged by the server stay in localStorage and are sent
// again (with the same client id) after a reconnect, a reload or a move to another page.
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__onlineSupportWidget) return;
  window.__onlineSupportWidget = true;
  const base = new URL(script.src);
  const wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/widget/ws";
  const storeKey = "onlinesupport:" + base.host;
  // The widget's own words; the admin's texts (title, greeting, offline text) come from the server.
  const WORDS = {
    en: ["Open chat", "Chat", "End chat", "Mute sounds", "Close chat", "Name", "Email", "Your question", "Start chat", "Message", "Send message", "Type a message…", "Send", "Send a file", "How was this chat?", "Anything to add? (optional)", "Send rating", "Start a new chat", "Reconnecting…", "You are number {n} in line. Expected wait: about {m} min.", "Read", "{name} is typing…", "Thank you! We will answer you by email.", "The chat has ended.", "Thank you for your feedback!", "Choose from 1 to 5 stars.", "Sending {name}…", "The file could not be sent.", "{n} of 5", "Someone", "These articles may answer your question:", "This answered my question", "Glad that helped!", "Dismiss", "Subject", "What is it about?", "How soon do you need an answer?", "Not sent", "Retry", "Edit", "Discard", "Choose…"],
  };
  const lang = (script.dataset.lang || document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  // English is built in; the other languages' words come from /widget-words/LANG.js, fetched
  // only for the visitors who read them (see boot() at the end), so the script stays small.
  let words = WORDS.en;
  const KEYS = ["open", "chat", "end", "mute", "close", "name", "email", "question", "start", "message", "sendMessage", "placeholder", "send", "file", "how", "add", "sendRating", "again", "reconnecting", "queue", "read", "typing", "thanks", "ended", "rated", "stars", "sending", "fileFailed", "of5", "someone", "maybe", "answered", "glad", "dismiss", "subject", "about", "soon", "notSent", "retry", "edit", "discard", "choose"];
  const t = (key, vars = {}) => words[KEYS.indexOf(key)].replace(/\{(\w+)\}/g, (_, k) => vars[k]);
  const load = () => { try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; } };
  const state = Object.assign({ outbox: [], muted: false }, load());
  const save = () => { try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ } };
  // The website's signed-in user: data-user-* on the script tag, window.OnlineSupport.user set
  // before it, or OnlineSupport.identify(user) at any time (null: signed out). The server
  // believes only a correct hash. A chat belongs to the user it was started by: when another
  // one (or nobody) is signed in, this browser starts afresh.
  const tag = script.dataset;
  let user = null;
  function forUser(next) {
    user = next && next.id != null && next.id !== "" ? { ...next, id: String(next.id) } : null;
    if (!state.user || state.user === (user ? user.id : "")) return false;
    for (const key of ["token", "conversation_id", "pageSent", "user"]) delete state[key];
    state.outbox = []; save();
    return true;
  }
  forUser((window.OnlineSupport || {}).user || { id: tag.userId, email: tag.userEmail, name: tag.userName, hash: tag.userHash });
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

  // Everything below runs once the words are here (unindented so its history stays readable).
  function boot() {
  const host = document.createElement("div");
  host.setAttribute("data-onlinesupport", "");
  const root = host.attachShadow({ mode: "open" });
  const side = script.dataset.position === "left" ? "left" : "right";
  // The look comes from this server's stylesheet: a website's CSP then needs only `style-src`
  // for our origin, never 'unsafe-inline'. Nothing shows until it has loaded (no unstyled flash).
  root.innerHTML = `<link rel="stylesheet" href="${base.origin}/widget.css"><div class="os ${side}" hidden>
<button class="launch" aria-label="${t("open")}" aria-expanded="false"><svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span class="badge" hidden></span></button>
<div class="bal" role="status" hidden><p></p><button class="go" hidden></button><button class="x" aria-label="${t("dismiss")}">✕</button></div>
<section class="panel" role="dialog" aria-label="${t("chat")}" lang="${lang}" hidden>
<header><h2></h2><button class="end" hidden>${t("end")}</button><button class="mute" aria-pressed="false" aria-label="${t("mute")}"><svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor" aria-hidden="true"><path d="M4 9h4l5-4v14l-5-4H4z"/><path class="wave" d="M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12" stroke="currentColor" stroke-width="2" fill="none"/><path class="x" d="M16 9l6 6M22 9l-6 6" stroke="currentColor" stroke-width="2"/></svg></button><button class="close" aria-label="${t("close")}">✕</button></header>
<div class="status" role="status" hidden></div><div class="queue" role="status" hidden></div>
<div class="body"><div class="kb waiting" aria-live="polite" hidden></div><div role="log" aria-live="polite"><ol class="log"></ol></div>
<form class="pre" hidden><label data-f="name">${t("name")}<input name="name" autocomplete="name" maxlength="200"></label><label data-f="email">${t("email")}<input name="email" type="email" autocomplete="email" maxlength="320"></label><label>${t("question")}<textarea name="body" rows="3" maxlength="20000" required></textarea></label><div class="kb" aria-live="polite" hidden></div><p class="err" role="alert"></p><button type="submit">${t("start")}</button></form>
<form class="off" hidden><p class="note offtext"></p><label data-f="name">${t("name")}<input name="name" autocomplete="name" maxlength="200"></label><label>${t("email")}<input name="email" type="email" autocomplete="email" maxlength="320" required></label><label class="qtype" hidden>${t("about")}<select name="question_type"></select></label><label>${t("subject")}<input name="subject" maxlength="200"></label><label>${t("message")}<textarea name="body" rows="4" maxlength="20000" required></textarea></label><label>${t("soon")}<select name="urgency"></select></label><p class="err" role="alert"></p><button type="submit">${t("sendMessage")}</button></form>
<form class="rate" hidden><p class="note">${t("how")}</p><div class="stars" role="group" aria-label="Rating from 1 to 5"></div><label>${t("add")}<textarea name="comment" rows="2" maxlength="1000"></textarea></label><p class="err" role="alert"></p><button type="submit">${t("sendRating")}</button><button type="button" class="again">${t("again")}</button></form></div>
<form class="chat row" hidden><button type="button" class="clip" aria-label="${t("file")}" title="${t("file")}"><svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/></svg></button><input type="file" class="pick" hidden accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"><label class="grow">
<span class="sr">${t("message")}</span><textarea name="body" rows="2" maxlength="20000" placeholder="${t("placeholder")}" required></textarea></label><button type="submit">${t("send")}</button></form>
</section></div>`;
  const $ = (s) => root.querySelector(s);
  const sheet = root.querySelector("link"), scroller = $(".body");
  sheet.onload = () => { $(".os").hidden = false; };
  sheet.onerror = () => console.error(`OnlineSupport chat: ${sheet.href} could not be loaded; this page's Content-Security-Policy must allow style-src ${base.origin}`);
  const launch = $(".launch"), panel = $(".panel"), log = $(".log"), badge = $(".badge"), status = $(".status"), queueBar = $(".queue");
  const pre = $(".pre"), off = $(".off"), chat = $(".chat"), rate = $(".rate"), mute = $(".mute"), end = $(".end");
  let readSeq = 0, readMark = null;
  let ws = null, ready = false, attempt = 0, retry = 0, unread = 0, lastSeq = 0, typingAt = 0, typingNote = null, typingTimer = 0, widget = {};
  const shown = new Set();

  // Callback requests (channels/phone/callbacks.py): offered under the pre-chat and
  // leave-a-message forms while they are on; the form (widget-call.js) is fetched when wanted.
  // The server names the offer in the widget's language (welcome.callbacks; empty while off).
  let visitor = {}, call = null, callFrom = pre;
  const callWaiting = [];
  const offers = [pre, off].map((form) => {
    const b = document.createElement("button");
    b.type = "button"; b.className = "clip"; b.hidden = true;
    b.addEventListener("click", () => { callFrom = form; withCall((c) => c.open()); });
    form.append(b);
    return b;
  });
  function withCall(fn) {
    if (call) { fn(call); return; }
    callWaiting.push(fn);
    if (callWaiting.length > 1) return;
    window.__onlineSupportCall = { lang, panel, state, send, queue, show, note, visitor: () => visitor,
      back: () => show(callFrom), ready(c) { call = c; for (const f of callWaiting.splice(0)) f(c); } };
    const s = document.createElement("script");
    s.src = base.origin + "/widget-call.js"; s.async = true;
    document.head.append(s);
  }

  function bubble(cls, text, who) {
    const li = document.createElement("li");
    li.className = "m " + cls;
    if (who) { const w = document.createElement("span"); w.className = "who"; w.textContent = who; li.append(w); }
    const body = document.createElement("span");
    body.className = "text"; body.textContent = text;
    li.append(body);
    log.append(li);
    // What the server has not confirmed stays last, below everything it has.
    for (const mine of log.querySelectorAll(".pending, .failed")) log.append(mine);
    scrollDown();
    return li;
  }
  let scrolling = 0;
  function scrollDown() {
    // Once a frame: scrolling after each of a thousand caught-up messages lays the log out each time.
    if (!scrolling) scrolling = requestAnimationFrame(() => { scrolling = 0; scroller.scrollTop = scroller.scrollHeight; });
  }
  function note(text) {
    const li = document.createElement("li");
    li.className = "note";
    li.textContent = text;
    log.append(li);
    return li;
  }
  function show(form) {
    for (const f of [pre, off, chat, rate, call && call.form]) if (f) f.hidden = f !== form;
    end.hidden = form !== chat;
  }
  // Sounds only once the visitor has used the chat on this page: never on arrival.
  let touched = false;
  for (const type of ["pointerdown", "keydown"]) root.addEventListener(type, () => { touched = true; });
  let lastBeep = 0;
  function beep() {
    // Once for a burst (a long chat caught up after a reload), not once for each message.
    if (state.muted || !touched || !window.AudioContext || Date.now() - lastBeep < 2000) return;
    lastBeep = Date.now();
    try {
      const ctx = new AudioContext(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.05;
      osc.connect(gain).connect(ctx.destination); osc.start(); osc.stop(ctx.currentTime + 0.12);
    } catch (e) { /* no audio */ }
  }
  function setUnread(n) {
    unread = n;
    badge.hidden = n === 0;
    badge.textContent = String(n);
  }
  function open(yes) {
    panel.hidden = !yes;
    launch.setAttribute("aria-expanded", String(yes));
    state.open = yes; save();
    if (yes) { setUnread(0); const t = panel.querySelector("form:not([hidden]) textarea"); if (t) t.focus(); }
  }
  launch.addEventListener("click", () => { bal.hidden = true; open(panel.hidden); });
  $(".close").addEventListener("click", () => { open(false); launch.focus(); });
  root.addEventListener("keydown", (e) => { if (e.key === "Escape" && !panel.hidden) { open(false); launch.focus(); } });
  mute.addEventListener("click", () => { state.muted = !state.muted; save(); renderMute(); });
  function renderMute() {
    mute.setAttribute("aria-pressed", String(state.muted));
    mute.querySelector(".wave").style.display = state.muted ? "none" : "";
    mute.querySelector(".x").style.display = state.muted ? "" : "none";
  }

  function send(frame) {
    if (ws && ready) ws.send(JSON.stringify(frame));
  }
  function renderPending() {
    for (const item of state.outbox) {
      if (item.kind !== "leave" && item.kind !== "callback" && !root.querySelector(`[data-cid="${item.client_id}"]`)) {
        bubble("me pending", item.body).dataset.cid = item.client_id;
      }
    }
  }
  function queue(item) {
    item.client_id = newId();
    state.outbox.push(item); save();
    renderPending();
    send(item);
  }
  function onMessage(m) {
    if (shown.has(m.seq)) return;
    shown.add(m.seq);
    lastSeq = Math.max(lastSeq, m.seq);
    const mine = m.author_type === "customer";
    const pending = m.client_id && root.querySelector(`[data-cid="${m.client_id}"]`);
    if (pending) {
      pending.classList.remove("pending"); pending.removeAttribute("data-cid"); pending.dataset.seq = m.seq;
      showRead(); return;
    }
    if (typingNote) { typingNote.remove(); typingNote = null; }
    if (m.author_type === "system") { note(m.body); return; }
    const li = bubble(mine ? "me" : "", (m.attachments || []).length ? "" : m.body, mine ? "" : m.author_name);
    li.dataset.seq = m.seq;
    for (const a of m.attachments || []) {
      const link = document.createElement("a");
      link.href = base.origin + a.url; link.target = "_blank"; link.rel = "noopener";
      if (a.content_type.startsWith("image/")) {
        const img = document.createElement("img"); img.src = link.href; img.alt = a.filename; link.append(img);
      } else link.textContent = a.filename;
      li.append(link);
    }
    if (!mine) {
      queueBar.hidden = true;
      // A reload replays the chat: only what this browser has not seen before is news.
      if (m.seq > (state.heard || 0)) { state.heard = m.seq; save(); beep(); if (panel.hidden) setUnread(unread + 1); }
    }
    else showRead();
  }
  function showRead() {
    // "Read" under the visitor's last message an agent has seen.
    const read = Array.from(log.querySelectorAll(".m.me[data-seq]")).filter((b) => Number(b.dataset.seq) <= readSeq).pop();
    if (!read) return;
    if (!readMark) { readMark = document.createElement("li"); readMark.className = "readmark"; readMark.textContent = t("read"); }
    read.after(readMark);
  }
  function onAck(a) {
    const item = state.outbox.find((i) => i.client_id === a.client_id);
    state.outbox = state.outbox.filter((i) => i.client_id !== a.client_id);
    if (a.conversation_id) state.conversation_id = a.conversation_id;
    save();
    if (item && item.kind === "start") send({ type: "queue" });
    if (item && item.kind === "leave") { show(null); note(t("thanks")); }
    else if (item && item.kind === "callback") withCall((c) => c.done(a.callback));
    else if (item && item.kind === "start") show(chat);
  }
  function fillForm(form) {
    for (const label of form.querySelectorAll("[data-f]")) {
      const mode = widget["ask_" + label.dataset.f], known = !!visitor[label.dataset.f];
      label.hidden = mode === "hidden" || known;
      label.querySelector("input").required = !known && (mode === "required" || (form === off && label.dataset.f === "email"));
    }
  }
  // A proactive message: at most one per page view, never again once dismissed.
  const bal = $(".bal");
  let balShown = false;
  function proactive(list) {
    const dismissed = state.dismissed || [];
    const glob = (p) => new RegExp("^" + p.split("*").map((x) => x.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
    const m = (list || []).find((p) => !dismissed.includes(p.id) && glob(p.url).test(location.href) &&
      (p.audience === "all" || (p.audience === "returning") === (state.visits > 1)));
    if (!m || balShown || state.conversation_id) return;
    balShown = true;
    const event = (name) => send({ type: "proactive", message_id: m.id, event: name, page: location.href });
    const go = () => { bal.hidden = true; state.proactive = m.id; save(); event("clicked"); open(true); };
    setTimeout(() => {
      if (!panel.hidden) return;
      bal.querySelector("p").textContent = m.text;
      const button = bal.querySelector(".go");
      button.textContent = m.button; button.hidden = !m.button;
      bal.querySelector("p").onclick = button.onclick = go;
      bal.querySelector(".x").onclick = () => {
        bal.hidden = true; state.dismissed = [...dismissed, m.id].slice(-50); save(); event("dismissed");
      };
      bal.hidden = false;
      event("shown");
    }, Math.max(0, m.seconds * 1000 - performance.now()));
  }
  function welcome(w) {
    widget = w.widget;
    root.host.style.setProperty("--c", widget.color);
    // Text on the brand colour: dark on a light colour, white on a dark one.
    const rgb = (widget.color.match(/\w\w/g) || []).slice(0, 3).map((h) => parseInt(h, 16));
    root.host.style.setProperty("--on-c", rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114 > 160 ? "#1d2330" : "#fff");
    $("h2").textContent = widget.title;
    $(".offtext").textContent = widget.offline_text;
    // A signed-in user the server believed: the pre-chat form skips what it knows.
    visitor = w.visitor || {};
    if (visitor.verified && user) state.user = user.id; else delete state.user;
    if (visitor.unverified) console.warn("OnlineSupport: wrong user hash, chatting anonymously");
    for (const b of offers) { b.hidden = !w.callbacks; b.textContent = w.callbacks; }
    state.token = w.token;
    if (w.conversation_id) state.conversation_id = w.conversation_id;
    else delete state.conversation_id;
    save();
    if (!log.childElementCount) note(widget.greeting);
    // The contact form's choices, so a message left here is routed like the page's form.
    const choices = (sel, pairs) => { if (!sel.options.length) for (const [v, l] of pairs) sel.add(new Option(l, v)); };
    if (w.form) {
      choices(off.elements.question_type, [["", t("choose")], ...w.form.question_types.map((q) => [q, q])]);
      off.querySelector(".qtype").hidden = !w.form.question_types.length;
      choices(off.elements.urgency, Object.entries(w.form.urgency));
    }
    fillForm(pre); fillForm(off);
    const leaving = state.outbox.some((i) => i.kind === "leave");
    if (state.conversation_id || state.outbox.some((i) => i.kind === "start")) show(chat);
    else if (!leaving && !(call && !call.form.hidden)) show(w.agents_online ? pre : off);
    for (const item of state.outbox) send(item);
    proactive(w.proactive);
    if (state.conversation_id) send({ type: "queue" });
    // A page other than the last one sent: a page view for the reports (a reload is none), and
    // in a chat a step of its trail.
    if (state.pageSent !== location.href) {
      send({ type: "page", url: location.href, title: document.title });
      state.pageSent = location.href; save();
    }
  }
  function onTyping(typing) {
    if (!typingNote) typingNote = note("");
    typingNote.textContent = t("typing", { name: typing.name || t("someone") });
    log.append(typingNote);
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => { if (typingNote) { typingNote.remove(); typingNote = null; } }, 4000);
  }
  function onError(f) {
    if (f.retry) { holdOutbox(f.message); return; }
    // A refused message would be refused again: out of the outbox. A chat message stays in
    // the conversation (and in localStorage) as "not sent" until the visitor retries,
    // edits or discards it; a form's text goes back into its form.
    const item = state.outbox.find((i) => i.client_id === f.client_id);
    if (!item) { note(f.message); return; }
    state.outbox = state.outbox.filter((i) => i !== item);
    const bubbleEl = root.querySelector(`[data-cid="${item.client_id}"]`);
    if (bubbleEl) bubbleEl.remove();
    if (item.kind === "send") {
      state.failed = [...(state.failed || []), Object.assign(item, { error: f.message })]; save();
      renderFailed(); return;
    }
    save();
    if (item.kind === "callback") { withCall((c) => c.refill(item, f.message)); return; }
    const form = item.kind === "start" ? pre : off;
    show(form);
    form.querySelector("textarea").value = item.body;
    if (item.kind === "start") { pre.elements.name.value = item.name; pre.elements.email.value = item.email; }
    formError(form, f.message);
  }
  function renderFailed() {
    for (const item of state.failed || []) {
      if (root.querySelector(`[data-fail="${item.client_id}"]`)) continue;
      const li = bubble("me failed", item.body), line = document.createElement("p"), why = document.createElement("span");
      li.dataset.fail = item.client_id;
      why.textContent = t("notSent") + (item.error ? ": " + item.error : "");
      line.className = "fail"; line.append(why);
      const drop = () => { state.failed = state.failed.filter((i) => i !== item); save(); li.remove(); };
      const actions = {
        retry: () => { drop(); delete item.error; state.outbox.push(item); save(); renderPending(); send(item); },
        edit: () => { drop(); input.value = state.draft = item.body; save(); show(chat); input.focus(); },
        discard: drop,
      };
      for (const [key, act] of Object.entries(actions)) {
        const b = document.createElement("button");
        b.type = "button"; b.textContent = t(key); b.onclick = act;
        line.append(b);
      }
      li.append(line);
    }
  }
  // The server cannot store anything now (its disk is full): nothing was refused, so the
  // outbox keeps every message, says why, and is sent again in a while.
  let holding = 0;
  function holdOutbox(message) {
    status.textContent = message; status.hidden = false;
    if (holding) return;
    holding = setTimeout(() => {
      holding = 0;
      if (ready) status.hidden = true;
      for (const item of state.outbox) send(item);
    }, 10000);
  }
  function formError(form, text) {
    const p = form.querySelector(".err");
    if (p) p.textContent = text;
  }

  // Knowledge-base answers for the question being typed; "answered" ends it before (or while)
  // it waits in the queue.
  const preKb = pre.querySelector(".kb"), waitKb = $(".kb.waiting");
  let kbTimer = 0, kbAsked = "";
  async function suggest(question, box) {
    if (question.length < 12 || question === kbAsked) return;
    kbAsked = question;
    try {
      const r = await fetch(`${base.origin}/help/suggest?lang=${lang}&q=${encodeURIComponent(question)}`);
      const found = r.ok ? (await r.json()).articles : [];
      box.replaceChildren();
      box.hidden = !found.length;
      if (!found.length) return;
      const list = document.createElement("ul");
      for (const a of found) {
        const li = document.createElement("li"), link = document.createElement("a"), yes = document.createElement("button");
        Object.assign(link, { href: base.origin + a.url, target: "_blank", rel: "noopener", textContent: a.title });
        Object.assign(yes, { type: "button", textContent: t("answered") });
        yes.onclick = () => send({ type: "answered", article_id: a.id, question });
        li.append(link, yes);
        list.append(li);
      }
      const p = document.createElement("p");
      p.textContent = t("maybe");
      box.append(p, list);
    } catch (e) { /* suggestions are a help, never in the way */ }
  }
  pre.elements.body.addEventListener("input", () => {
    clearTimeout(kbTimer);
    kbTimer = setTimeout(() => suggest(pre.elements.body.value.trim(), preKb), 500);
  });
  pre.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(pre);
    formError(pre, "");
    queue({ type: "start", kind: "start", body: d.get("body"), name: d.get("name") || "", email: d.get("email") || "",
      language: lang, page: { url: location.href, title: document.title, referrer: document.referrer } });
    state.pageSent = location.href;
    if (state.proactive) { send({ type: "proactive", message_id: state.proactive, event: "chat_started" }); delete state.proactive; }
    save();
    // The same answers stay offered above the chat while it waits for an agent.
    if (!preKb.hidden) { waitKb.replaceChildren(...preKb.childNodes); waitKb.hidden = false; }
    pre.reset(); preKb.hidden = true; kbAsked = ""; show(chat);
  });
  off.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(off);
    formError(off, "");
    queue({ type: "leave", kind: "leave", body: d.get("body"), name: d.get("name") || visitor.name || "", email: d.get("email") || visitor.email,
      subject: d.get("subject") || "", question_type: d.get("question_type") || "", urgency: d.get("urgency") || "",
      page: { url: location.href } });
  });
  const input = chat.querySelector("textarea");
  chat.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    queue({ type: state.conversation_id ? "send" : "start", kind: "send", body });
    input.value = ""; delete state.draft; save();
  });
  const pick = chat.querySelector(".pick");
  chat.querySelector(".clip").addEventListener("click", () => pick.click());
  pick.addEventListener("change", async () => {
    const file = pick.files[0];
    pick.value = "";
    if (!file || !state.conversation_id) return;
    const sending = note(t("sending", { name: file.name }));
    const form = new FormData();
    form.append("token", state.token); form.append("conversation_id", String(state.conversation_id));
    form.append("client_id", newId()); form.append("file", file);
    try {
      const r = await fetch(base.origin + "/widget/upload", { method: "POST", body: form, headers: { Accept: "application/json" } });
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || t("fileFailed"));
      sending.remove();
    } catch (e) { sending.textContent = e.message; }
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); chat.requestSubmit(); } });
  input.addEventListener("input", () => {
    state.draft = input.value; save();
    if (Date.now() - typingAt > 2000) { typingAt = Date.now(); send({ type: "typing" }); }
  });

  let score = 0;
  for (let n = 1; n <= 5; n++) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = n + "★"; b.setAttribute("aria-label", t("of5", { n }));
    b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", () => {
      score = n;
      for (const other of rate.querySelectorAll(".stars button")) other.setAttribute("aria-pressed", String(other === b));
    });
    $(".stars").append(b);
  }
  end.addEventListener("click", () => send({ type: "end" }));
  rate.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!score) { formError(rate, t("stars")); return; }
    formError(rate, "");
    send({ type: "rate", score, comment: rate.elements.comment.value });
  });
  rate.querySelector(".again").addEventListener("click", () => {
    delete state.conversation_id; delete state.pageSent; delete state.heard; save();
    log.replaceChildren(); shown.clear(); lastSeq = 0; score = 0; readSeq = 0;
    queueBar.hidden = true; renderFailed();
    rate.reset(); rate.querySelector("[type=submit]").hidden = false;
    if (ws) ws.close();
  });

  // While waiting for a first answer, ask now and then where we are in the line.
  setInterval(() => { if (state.conversation_id && !queueBar.hidden) send({ type: "queue" }); }, 15000);

  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = () => {
      attempt = 0; ready = true; status.hidden = true;
      ws.send(JSON.stringify({ type: "hello", token: state.token, conversation_id: state.conversation_id, last_seq: lastSeq, user: user || undefined, lang }));
    };
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === "welcome") welcome(f);
      else if (f.type === "message") onMessage(f);
      else if (f.type === "ack") onAck(f);
      else if (f.type === "typing") onTyping(f);
      else if (f.type === "error") onError(f);
      else if (f.type === "callback_options") withCall((c) => c.options(f));
      else if (f.type === "read") { readSeq = Math.max(readSeq, f.seq); showRead(); }
      else if (f.type === "queue") {
        queueBar.hidden = f.position === null;
        if (f.position === null) waitKb.hidden = true;
        if (f.position !== null) queueBar.textContent = t("queue", { n: f.position, m: f.wait_minutes });
      }
      else if (f.type === "ended") { note(t("ended")); queueBar.hidden = waitKb.hidden = true; show(rate); }
      else if (f.type === "answered") { note(t("glad")); preKb.hidden = waitKb.hidden = true; pre.reset(); kbAsked = ""; }
      else if (f.type === "rated") { note(t("rated")); queueBar.hidden = true; rate.querySelector("[type=submit]").hidden = true; }
    };
    ws.onclose = () => {
      ready = false;
      status.textContent = t("reconnecting"); status.hidden = false;
      // Exponential backoff with jitter, at most 15 s between tries.
      const delay = Math.min(15000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      clearTimeout(retry);
      retry = setTimeout(connect, delay);
    };
  }
  // A socket can look open long after the network went: trust the browser's word instead.
  window.addEventListener("offline", () => { if (ws) ws.close(); });
  window.addEventListener("online", () => {
    attempt = 0;
    if (!ready && ws && ws.readyState === WebSocket.CLOSED) { clearTimeout(retry); connect(); }
  });

  reset = (changed) => {
    if (changed) { log.replaceChildren(); shown.clear(); lastSeq = 0; readSeq = 0; }
    if (ws) ws.close();
  };

  function start() {
    // A visit is a browser session: pages within it are the same visit.
    try {
      if (!sessionStorage.getItem(storeKey)) { sessionStorage.setItem(storeKey, "1"); state.visits = (state.visits || 0) + 1; save(); }
    } catch (e) { /* storage blocked */ }
    document.body.append(host);
    renderMute();
    renderPending();
    renderFailed();
    if (state.draft) input.value = state.draft;
    if (state.open || script.dataset.open === "true") open(true);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
  }
  // The page's user signed in or out: a new hello says so (another user's chat is cleared).
  let reset = () => {};
  window.OnlineSupport = Object.assign(window.OnlineSupport || {}, { identify(next) { reset(forUser(next || null)); } });
  if (["de", "fr", "es", "nl"].includes(lang)) {
    window.__onlineSupportWords = (w) => { words = w; };
    const s = document.createElement("script");
    s.src = `${base.origin}/widget-words/${lang}.js`; s.async = true;
    s.onload = s.onerror = boot;  // should they not come, English
    document.head.append(s);
  } else boot();
})();
