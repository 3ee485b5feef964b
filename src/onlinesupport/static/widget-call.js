// OnlineSupport chat widget: the callback request form (channels/phone/callbacks.py).
// widget.js fetches this file only when a visitor asks to be called back, so the chat every
// visitor downloads stays small. It hands over what the form needs in window.__onlineSupportCall
// and gets back {form, open, options, done, refill}.
(() => {
  "use strict";
  const api = window.__onlineSupportCall;
  if (!api) return;
  delete window.__onlineSupportCall;
  const WORDS = {
    en: { intro: "Leave your number: we call you in the half hour you choose.", name: "Name", country: "Country", phone: "Phone number", about: "What should the call be about?", when: "When may we call?", email: "Email, for a confirmation (optional)", request: "Request a call", back: "Back", thanks: "Thank you! We will call {phone} on {window}.", none: "No times are open for calls in the coming days.", zone: "times in {zone}" },
    de: { intro: "Hinterlassen Sie Ihre Nummer: Wir rufen Sie in der gewählten halben Stunde an.", name: "Name", country: "Land", phone: "Telefonnummer", about: "Worum soll es im Gespräch gehen?", when: "Wann dürfen wir anrufen?", email: "E-Mail für eine Bestätigung (optional)", request: "Rückruf anfordern", back: "Zurück", thanks: "Danke! Wir rufen {phone} an: {window}.", none: "In den nächsten Tagen sind keine Zeiten für Anrufe frei.", zone: "Zeiten in {zone}" },
    fr: { intro: "Laissez votre numéro : nous vous appelons dans la demi-heure choisie.", name: "Nom", country: "Pays", phone: "Numéro de téléphone", about: "À quel sujet ?", when: "Quand pouvons-nous appeler ?", email: "E-mail pour une confirmation (facultatif)", request: "Demander un rappel", back: "Retour", thanks: "Merci ! Nous appellerons le {phone} : {window}.", none: "Aucun créneau d’appel libre dans les prochains jours.", zone: "heures : {zone}" },
    es: { intro: "Deje su número: le llamamos en la media hora que elija.", name: "Nombre", country: "País", phone: "Número de teléfono", about: "¿De qué trata la llamada?", when: "¿Cuándo podemos llamar?", email: "Correo electrónico para una confirmación (opcional)", request: "Solicitar una llamada", back: "Volver", thanks: "¡Gracias! Llamaremos al {phone}: {window}.", none: "No hay horarios libres para llamadas en los próximos días.", zone: "horas en {zone}" },
    nl: { intro: "Laat uw nummer achter: we bellen u in het halfuur dat u kiest.", name: "Naam", country: "Land", phone: "Telefoonnummer", about: "Waar moet het gesprek over gaan?", when: "Wanneer mogen we bellen?", email: "E-mail voor een bevestiging (optioneel)", request: "Terugbelverzoek versturen", back: "Terug", thanks: "Bedankt! We bellen {phone}: {window}.", none: "De komende dagen zijn er geen tijden vrij om te bellen.", zone: "tijden in {zone}" },
  };
  const t = (key, vars = {}) => (WORDS[api.lang] || WORDS.en)[key].replace(/\{(\w+)\}/g, (_, k) => vars[k]);
  const make = (tag, props = {}) => Object.assign(document.createElement(tag), props);
  const field = (text, control, known) => {
    const label = make("label");
    if (known) label.dataset.f = known;
    label.append(text, control);
    return label;
  };
  const zone = make("small"), error = make("p", { className: "err" });
  error.setAttribute("role", "alert");
  const when = make("span", { textContent: t("when") + " " });
  when.append(zone);
  const back = make("button", { type: "button", className: "clip", textContent: t("back") });
  const form = make("form", { className: "call", hidden: true });
  form.append(make("p", { className: "note", textContent: t("intro") }),
    field(t("name"), make("input", { name: "name", autocomplete: "name", maxLength: 200 }), "name"),
    field(t("country"), make("select", { name: "country", autocomplete: "tel-country-code" })),
    field(t("phone"), make("input", { name: "phone", type: "tel", autocomplete: "tel", maxLength: 40, required: true })),
    field(t("about"), make("textarea", { name: "about", rows: 2, maxLength: 2000, required: true })),
    field(when, make("select", { name: "window", required: true })),
    field(t("email"), make("input", { name: "email", type: "email", autocomplete: "email", maxLength: 320 }), "email"),
    error, make("button", { type: "submit", textContent: t("request") }), back);
  api.panel.append(form);
  // refused: the server's reason for refusing the last request, kept until the next one is sent
  // (the options that arrive after a refusal must not wipe it).
  let chosen = "", zoneName = "", refused = "";
  // Days and times in the visitor's language on the queue's clock (the server's English words
  // where the browser cannot).
  const DAY = { weekday: "long", day: "numeric", month: "long" }, TIME = { hour: "2-digit", minute: "2-digit" };
  const local = (at, opts) => new Intl.DateTimeFormat(api.lang, { timeZone: zoneName, ...opts }).format(new Date(at));
  const span = (start, end) => `${local(start, TIME)}–${local(end, TIME)}`;
  function day(start) {
    const date = (at) => local(at, { year: "numeric", month: "numeric", day: "numeric" });
    const ahead = [0, 1].find((n) => date(Date.now() + n * 864e5) === date(start));
    if (ahead === undefined) return local(start, DAY);
    const word = new Intl.RelativeTimeFormat(api.lang, { numeric: "auto" }).format(ahead, "day");
    return word[0].toUpperCase() + word.slice(1);
  }

  function open() {
    api.show(form);
    // What a signed-in visitor's website told us is not asked again.
    for (const label of form.querySelectorAll("[data-f]")) label.hidden = !!api.visitor()[label.dataset.f];
    api.send({ type: "callback_options" });
    form.elements.phone.focus();
  }
  function options(o) {
    if (!o.enabled) { error.textContent = t("none"); return; }
    const country = form.elements.country, select = form.elements.window;
    if (!country.options.length) {
      for (const [code, label] of o.countries) country.add(new Option(label, code));
      const guess = ((navigator.language || "").split("-")[1] || "").toUpperCase();
      const first = api.state.country || o.country || (o.countries.some(([c]) => c === guess) ? guess : "");
      // None known: the visitor chooses (a number written with + needs no country).
      if (!first) country.add(new Option("—", ""), 0);
      country.value = first;
    }
    const keep = chosen || select.value;
    let group = null;
    zoneName = o.zone;
    select.replaceChildren();
    for (const w of o.windows) {
      let label = w.day, time = w.time;
      try { label = day(w.key); time = span(w.key, w.end); } catch (e) { /* the server's words */ }
      if (!group || group.label !== label) { group = make("optgroup", { label }); select.append(group); }
      group.append(new Option(time, w.key));
    }
    if (o.windows.some((w) => w.key === keep)) select.value = keep;
    zone.textContent = "(" + t("zone", { zone: o.zone }) + ")";
    error.textContent = refused || (o.windows.length ? "" : t("none"));
  }
  function done(callback) {
    let when = callback.window;
    try { if (zoneName) when = `${local(callback.start, DAY)}, ${span(callback.start, callback.end)} (${zoneName})`; } catch (e) { /* as the server said */ }
    form.reset(); chosen = ""; refused = "";
    api.show(null);
    api.note(t("thanks", { phone: callback.phone, window: when }));
  }
  // A refused request comes back with everything typed, and the reason.
  function refill(item, reason) {
    for (const name of ["name", "email", "phone", "about"]) form.elements[name].value = item[name] || "";
    api.state.country = item.country; chosen = item.window;
    if (form.elements.country.options.length) form.elements.country.value = item.country;
    refused = reason;
    open();
    error.textContent = reason;
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const d = new FormData(form);
    error.textContent = ""; refused = "";
    api.state.country = d.get("country"); chosen = d.get("window");
    api.queue({ type: "callback", kind: "callback", name: d.get("name") || "", email: d.get("email") || "", phone: d.get("phone"),
      country: d.get("country"), about: d.get("about"), window: d.get("window"), page: { url: location.href } });
  });
  back.addEventListener("click", api.back);
  api.ready({ form, open, options, done, refill });
})();
