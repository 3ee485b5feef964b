// OnlineSupport chat widget. Add to a website with:
//   <script src="https://SUPPORT-HOST:8080/widget.js" async></script>
// Optional attributes: data-position="left", data-open="true".
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
    en: ["Open chat", "Chat", "End chat", "Mute sounds", "Close chat", "Name", "Email", "Your question", "Start chat", "Message", "Send message", "Type a message…", "Send", "Send a file", "How was this chat?", "Anything to add? (optional)", "Send rating", "Start a new chat", "Reconnecting…", "You are number {n} in line. Expected wait: about {m} min.", "Read", "{name} is typing…", "Thank you! We will answer you by email.", "The chat has ended.", "Thank you for your feedback!", "Choose from 1 to 5 stars.", "Sending {name}…", "The file could not be sent.", "{n} of 5", "Someone", "These articles may answer your question:", "This answered my question", "Glad that helped!", "Dismiss", "Subject", "What is it about?", "How soon do you need an answer?"],
    de: ["Chat öffnen", "Chat", "Chat beenden", "Töne aus", "Chat schließen", "Name", "E-Mail", "Ihre Frage", "Chat starten", "Nachricht", "Nachricht senden", "Nachricht schreiben…", "Senden", "Datei senden", "Wie war dieser Chat?", "Möchten Sie etwas ergänzen? (optional)", "Bewertung senden", "Neuen Chat starten", "Verbindung wird wiederhergestellt…", "Sie sind Nummer {n} in der Warteschlange. Wartezeit: etwa {m} Min.", "Gelesen", "{name} schreibt…", "Danke! Wir antworten Ihnen per E-Mail.", "Der Chat wurde beendet.", "Danke für Ihre Rückmeldung!", "Bitte 1 bis 5 Sterne wählen.", "{name} wird gesendet…", "Die Datei konnte nicht gesendet werden.", "{n} von 5", "Jemand", "Diese Artikel beantworten vielleicht Ihre Frage:", "Das hat meine Frage beantwortet", "Schön, dass es geholfen hat!", "Ausblenden", "Betreff", "Worum geht es?", "Wie schnell brauchen Sie eine Antwort?"],
    fr: ["Ouvrir le chat", "Chat", "Terminer le chat", "Couper le son", "Fermer le chat", "Nom", "E-mail", "Votre question", "Démarrer le chat", "Message", "Envoyer le message", "Écrivez un message…", "Envoyer", "Envoyer un fichier", "Comment s'est passé ce chat ?", "Un commentaire ? (facultatif)", "Envoyer la note", "Nouveau chat", "Reconnexion…", "Vous êtes numéro {n} dans la file. Attente estimée : environ {m} min.", "Lu", "{name} écrit…", "Merci ! Nous vous répondrons par e-mail.", "Le chat est terminé.", "Merci pour votre avis !", "Choisissez de 1 à 5 étoiles.", "Envoi de {name}…", "Le fichier n'a pas pu être envoyé.", "{n} sur 5", "Quelqu'un", "Ces articles répondent peut-être à votre question :", "Cela a répondu à ma question", "Ravi que cela vous ait aidé !", "Masquer", "Objet", "De quoi s’agit-il ?", "Quand vous faut-il une réponse ?"],
    es: ["Abrir chat", "Chat", "Terminar chat", "Silenciar", "Cerrar chat", "Nombre", "Correo electrónico", "Su pregunta", "Iniciar chat", "Mensaje", "Enviar mensaje", "Escriba un mensaje…", "Enviar", "Enviar un archivo", "¿Qué tal fue este chat?", "¿Algo que añadir? (opcional)", "Enviar valoración", "Nuevo chat", "Reconectando…", "Es el número {n} en la cola. Espera estimada: unos {m} min.", "Leído", "{name} está escribiendo…", "¡Gracias! Le responderemos por correo electrónico.", "El chat ha terminado.", "¡Gracias por su opinión!", "Elija de 1 a 5 estrellas.", "Enviando {name}…", "No se pudo enviar el archivo.", "{n} de 5", "Alguien", "Estos artículos pueden responder a su pregunta:", "Esto respondió a mi pregunta", "¡Nos alegra haberle ayudado!", "Descartar", "Asunto", "¿De qué se trata?", "¿Cuándo necesita una respuesta?"],
    nl: ["Chat openen", "Chat", "Chat beëindigen", "Geluid uit", "Chat sluiten", "Naam", "E-mail", "Uw vraag", "Chat starten", "Bericht", "Bericht versturen", "Typ een bericht…", "Versturen", "Bestand versturen", "Hoe was deze chat?", "Nog iets toe te voegen? (optioneel)", "Beoordeling versturen", "Nieuwe chat", "Opnieuw verbinden…", "U bent nummer {n} in de wachtrij. Verwachte wachttijd: ongeveer {m} min.", "Gelezen", "{name} typt…", "Bedankt! We antwoorden u per e-mail.", "De chat is beëindigd.", "Bedankt voor uw beoordeling!", "Kies 1 tot 5 sterren.", "{name} wordt verstuurd…", "Het bestand kon niet worden verstuurd.", "{n} van 5", "Iemand", "Deze artikelen beantwoorden misschien uw vraag:", "Dit beantwoordde mijn vraag", "Fijn dat het geholpen heeft!", "Verbergen", "Onderwerp", "Waar gaat het over?", "Hoe snel heeft u een antwoord nodig?"],
  };
  const lang = (script.dataset.lang || document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  const words = WORDS[lang] || WORDS.en;
  const KEYS = ["open", "chat", "end", "mute", "close", "name", "email", "question", "start", "message", "sendMessage", "placeholder", "send", "file", "how", "add", "sendRating", "again", "reconnecting", "queue", "read", "typing", "thanks", "ended", "rated", "stars", "sending", "fileFailed", "of5", "someone", "maybe", "answered", "glad", "dismiss", "subject", "about", "soon"];
  const t = (key, vars = {}) => words[KEYS.indexOf(key)].replace(/\{(\w+)\}/g, (_, k) => vars[k]);
  const load = () => { try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; } };
  const state = Object.assign({ outbox: [], muted: false }, load());
  const save = () => { try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ } };
  const newId = () => Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");

  const host = document.createElement("div");
  host.setAttribute("data-onlinesupport", "");
  const root = host.attachShadow({ mode: "open" });
  const side = script.dataset.position === "left" ? "left" : "right";
  root.innerHTML = `<style>
:host{all:initial}*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:15px}
.launch{position:fixed;${side}:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25);z-index:2147483646}
.launch svg{width:28px;height:28px}
.badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;line-height:20px;text-align:center;padding:0 5px}
.panel{position:fixed;${side}:20px;bottom:88px;width:360px;height:520px;max-height:calc(100vh - 108px);background:#fff;color:#1d2330;border-radius:12px;box-shadow:0 4px 24px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483647}
.panel[hidden],[hidden]{display:none!important}
header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}
header h2{flex:1;margin:0;font-size:16px;font-weight:600}
header button{background:none;border:0;color:#fff;cursor:pointer;font-size:18px;padding:2px 6px}
header .end{font-size:13px;border:1px solid rgba(255,255,255,.6);border-radius:6px}
.stars{display:flex;gap:6px;justify-content:center}
.stars button{width:44px;padding:6px 0;background:#eef1f5;color:#1d2330;border:1px solid #c9ced8}
.stars button[aria-pressed=true]{background:var(--c);color:#fff}
.status,.queue{background:#fff4ce;color:#5c4500;font-size:13px;padding:4px 12px}
.queue{background:#e8f0fd;color:#1d2330}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;margin:0;list-style:none}
.m{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;background:#eef1f5;align-self:flex-start}
.m.me{align-self:flex-end;background:var(--c);color:#fff}
.m.pending{opacity:.6}
.readmark{align-self:flex-end;font-size:12px;color:#5d6678;margin-top:-4px}
.who{display:block;font-size:12px;opacity:.75;margin-bottom:2px}
.note{font-size:13px;color:#5d6678;text-align:center}
form{display:flex;flex-direction:column;gap:8px;padding:12px;border-top:1px solid #e3e6eb;margin:0}
label{display:flex;flex-direction:column;gap:3px;font-size:13px;font-weight:600}
input,textarea{font:inherit;font-weight:400;padding:7px 9px;border:1px solid #c9ced8;border-radius:8px;width:100%;color:#1d2330;background:#fff}
textarea{resize:none}
form button{font:inherit;padding:8px;border:0;border-radius:8px;background:var(--c);color:#fff;cursor:pointer;font-weight:600}
.row{flex-direction:row;align-items:flex-end}
.row button{width:auto;padding:8px 14px}
.err{color:#b3261e;font-size:13px;margin:0}
.bal{position:fixed;${side}:20px;bottom:86px;max-width:260px;background:#fff;color:#1d2330;border-radius:12px;padding:10px 30px 10px 12px;box-shadow:0 2px 12px rgba(0,0,0,.25);font-size:14px;z-index:2147483646}
.bal p{margin:0 0 6px;cursor:pointer}.bal .x{position:absolute;top:4px;${side === "left" ? "left" : "right"}:4px;border:0;background:none;cursor:pointer;font-size:14px}
.bal .go{border:0;border-radius:8px;background:var(--c);color:#fff;padding:5px 10px;cursor:pointer}
.kb{font-size:13px;background:#f4f5f7;border-radius:8px;padding:6px 10px}
.kb ul{margin:4px 0;padding-left:18px}.kb li{margin:4px 0}
.kb button{display:block;margin-top:2px;padding:3px 8px;font-size:12px;background:#fff;color:var(--c);border:1px solid var(--c);border-radius:6px;cursor:pointer}
.clip{background:none!important;color:#5d6678!important;padding:8px 4px!important}
.m img{display:block;max-width:100%;max-height:200px;border-radius:8px;margin-top:4px}
.m a{color:inherit}
:focus-visible{outline:3px solid #8ab4f8;outline-offset:1px}
@media (max-width:480px){.panel{left:0;right:0;bottom:0;width:100%;height:100%;max-height:100%;border-radius:0}}
</style>
<button class="launch" aria-label="${t("open")}" aria-expanded="false"><svg viewBox="0 0 24 24" fill="currentColor" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span class="badge" hidden></span></button>
<div class="bal" role="status" hidden><p></p><button class="go" hidden></button><button class="x" aria-label="${t("dismiss")}">✕</button></div>
<section class="panel" role="dialog" aria-label="${t("chat")}" lang="${lang}" hidden>
<header><h2></h2><button class="end" hidden>${t("end")}</button><button class="mute" aria-pressed="false" aria-label="${t("mute")}"><svg viewBox="0 0 24 24" width="18" height="18" fill="currentColor" aria-hidden="true"><path d="M4 9h4l5-4v14l-5-4H4z"/><path class="wave" d="M16 8.5a5 5 0 0 1 0 7M18.5 6a8.5 8.5 0 0 1 0 12" stroke="currentColor" stroke-width="2" fill="none"/><path class="x" d="M16 9l6 6M22 9l-6 6" stroke="currentColor" stroke-width="2"/></svg></button><button class="close" aria-label="${t("close")}">✕</button></header>
<div class="status" role="status" hidden></div><div class="queue" role="status" hidden></div><div class="kb waiting" aria-live="polite" hidden></div>
<ol class="log" role="log" aria-live="polite"></ol>
<form class="pre" hidden><label data-f="name">${t("name")}<input name="name" autocomplete="name" maxlength="200"></label><label data-f="email">${t("email")}<input name="email" type="email" autocomplete="email" maxlength="320"></label><label>${t("question")}<textarea name="body" rows="3" maxlength="20000" required></textarea></label><div class="kb" aria-live="polite" hidden></div><p class="err" role="alert"></p><button type="submit">${t("start")}</button></form>
<form class="off" hidden><p class="note offtext"></p><label data-f="name">${t("name")}<input name="name" autocomplete="name" maxlength="200"></label><label>${t("email")}<input name="email" type="email" autocomplete="email" maxlength="320" required></label><label class="qtype" hidden>${t("about")}<select name="question_type"></select></label><label>${t("subject")}<input name="subject" maxlength="200"></label><label>${t("message")}<textarea name="body" rows="4" maxlength="20000" required></textarea></label><label>${t("soon")}<select name="urgency"></select></label><p class="err" role="alert"></p><button type="submit">${t("sendMessage")}</button></form>
<form class="rate" hidden><p class="note">${t("how")}</p><div class="stars" role="group" aria-label="Rating from 1 to 5"></div><label>${t("add")}<textarea name="comment" rows="2" maxlength="1000"></textarea></label><p class="err" role="alert"></p><button type="submit">${t("sendRating")}</button><button type="button" class="again">${t("again")}</button></form>
<form class="chat row" hidden><button type="button" class="clip" aria-label="${t("file")}" title="${t("file")}"><svg viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7"/></svg></button><input type="file" class="pick" hidden accept="image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain"><label style="flex:1">
<span style="position:absolute;left:-9999px">${t("message")}</span><textarea name="body" rows="2" maxlength="20000" placeholder="${t("placeholder")}" required></textarea></label><button type="submit">${t("send")}</button></form>
</section>`;
  const $ = (s) => root.querySelector(s);
  const launch = $(".launch"), panel = $(".panel"), log = $(".log"), badge = $(".badge"), status = $(".status"), queueBar = $(".queue");
  const pre = $(".pre"), off = $(".off"), chat = $(".chat"), rate = $(".rate"), mute = $(".mute"), end = $(".end");
  let readSeq = 0, readMark = null;
  let ws = null, ready = false, attempt = 0, retry = 0, unread = 0, lastSeq = 0, typingAt = 0, typingNote = null, typingTimer = 0, widget = {};
  const shown = new Set();

  function bubble(cls, text, who) {
    const li = document.createElement("li");
    li.className = "m " + cls;
    if (who) { const w = document.createElement("span"); w.className = "who"; w.textContent = who; li.append(w); }
    li.append(document.createTextNode(text));
    log.append(li);
    log.scrollTop = log.scrollHeight;
    return li;
  }
  function note(text) {
    const li = document.createElement("li");
    li.className = "note";
    li.textContent = text;
    log.append(li);
    return li;
  }
  function show(form) {
    for (const f of [pre, off, chat, rate]) f.hidden = f !== form;
    end.hidden = form !== chat;
  }
  function beep() {
    if (state.muted || !window.AudioContext) return;
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
      if (item.kind !== "leave" && !root.querySelector(`[data-cid="${item.client_id}"]`)) {
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
    if (!mine) { queueBar.hidden = true; beep(); if (panel.hidden) setUnread(unread + 1); }
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
    else if (item && item.kind === "start") show(chat);
  }
  function fillForm(form) {
    for (const label of form.querySelectorAll("[data-f]")) {
      const mode = widget["ask_" + label.dataset.f];
      label.hidden = mode === "hidden";
      label.querySelector("input").required = mode === "required" || (form === off && label.dataset.f === "email");
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
    $("h2").textContent = widget.title;
    $(".offtext").textContent = widget.offline_text;
    state.token = w.token;
    if (w.conversation_id) state.conversation_id = w.conversation_id;
    else delete state.conversation_id;
    save();
    if (!log.childElementCount) note(widget.greeting);
    // The contact form's choices, so a message left here is routed like the page's form.
    const choices = (sel, pairs) => { if (!sel.options.length) for (const [v, l] of pairs) sel.add(new Option(l, v)); };
    if (w.form) {
      choices(off.elements.question_type, [["", ""], ...w.form.question_types.map((q) => [q, q])]);
      off.querySelector(".qtype").hidden = !w.form.question_types.length;
      choices(off.elements.urgency, Object.entries(w.form.urgency));
    }
    fillForm(pre); fillForm(off);
    const leaving = state.outbox.some((i) => i.kind === "leave");
    if (state.conversation_id || state.outbox.some((i) => i.kind === "start")) show(chat);
    else if (!leaving) show(w.agents_online ? pre : off);
    for (const item of state.outbox) send(item);
    proactive(w.proactive);
    if (state.conversation_id) send({ type: "queue" });
    if (state.conversation_id && state.pageSent !== location.href) {
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
    // A refused message would be refused again: take it out of the outbox, give it back.
    const item = state.outbox.find((i) => i.client_id === f.client_id);
    if (!item) { note(f.message); return; }
    state.outbox = state.outbox.filter((i) => i !== item); save();
    const bubbleEl = root.querySelector(`[data-cid="${item.client_id}"]`);
    if (bubbleEl) bubbleEl.remove();
    const form = item.kind === "start" ? pre : item.kind === "leave" ? off : chat;
    show(form);
    form.querySelector("textarea").value = item.body;
    if (item.kind === "start") { pre.elements.name.value = item.name; pre.elements.email.value = item.email; }
    formError(form, f.message);
    if (form === chat) note(f.message);
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
      p.style.margin = "0";
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
    queue({ type: "leave", kind: "leave", body: d.get("body"), name: d.get("name") || "", email: d.get("email"),
      subject: d.get("subject") || "", question_type: d.get("question_type") || "", urgency: d.get("urgency") || "",
      page: { url: location.href } });
  });
  const input = chat.querySelector("textarea");
  chat.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = input.value.trim();
    if (!body) return;
    queue({ type: state.conversation_id ? "send" : "start", kind: "send", body });
    input.value = "";
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
    delete state.conversation_id; delete state.pageSent; save();
    log.replaceChildren(); shown.clear(); lastSeq = 0; score = 0; readSeq = 0;
    rate.reset(); rate.querySelector("[type=submit]").hidden = false;
    if (ws) ws.close();
  });

  // While waiting for a first answer, ask now and then where we are in the line.
  setInterval(() => { if (state.conversation_id && !queueBar.hidden) send({ type: "queue" }); }, 15000);

  function connect() {
    ws = new WebSocket(wsUrl);
    ws.onopen = () => {
      attempt = 0; ready = true; status.hidden = true;
      ws.send(JSON.stringify({ type: "hello", token: state.token, conversation_id: state.conversation_id, last_seq: lastSeq, page: location.href }));
    };
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      if (f.type === "welcome") welcome(f);
      else if (f.type === "message") onMessage(f);
      else if (f.type === "ack") onAck(f);
      else if (f.type === "typing") onTyping(f);
      else if (f.type === "error") onError(f);
      else if (f.type === "read") { readSeq = Math.max(readSeq, f.seq); showRead(); }
      else if (f.type === "queue") {
        queueBar.hidden = f.position === null;
        if (f.position === null) waitKb.hidden = true;
        if (f.position !== null) queueBar.textContent = t("queue", { n: f.position, m: f.wait_minutes });
      }
      else if (f.type === "ended") { note(t("ended")); waitKb.hidden = true; show(rate); }
      else if (f.type === "answered") { note(t("glad")); preKb.hidden = waitKb.hidden = true; pre.reset(); kbAsked = ""; }
      else if (f.type === "rated") { note(t("rated")); rate.querySelector("[type=submit]").hidden = true; }
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

  function start() {
    // A visit is a browser session: pages within it are the same visit.
    try {
      if (!sessionStorage.getItem(storeKey)) { sessionStorage.setItem(storeKey, "1"); state.visits = (state.visits || 0) + 1; save(); }
    } catch (e) { /* storage blocked */ }
    document.body.append(host);
    renderMute();
    renderPending();
    if (state.open || script.dataset.open === "true") open(true);
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
