// A list of choices under the reply box that opens while what is typed asks for one ("/" for
// a canned reply, "@" for a colleague): arrows move, Enter or Tab choose, Escape closes.

export function picker(box, menu, { search, render, choose }) {
  let matches = [];
  let active = 0;
  const close = () => { menu.hidden = true; matches = []; box.removeAttribute("aria-activedescendant"); };
  const pick = (match) => { close(); choose(match); };
  const draw = () => {
    menu.replaceChildren(...matches.map((match, i) => {
      const item = render(match);
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", String(i === active));
      item.addEventListener("mousedown", (event) => { event.preventDefault(); pick(match); });
      return item;
    }));
    menu.hidden = matches.length === 0;
    if (matches.length && menu.children[active].id) box.setAttribute("aria-activedescendant", menu.children[active].id);
  };
  // `search` returns the matches for what is typed, or null when no list is asked for.
  box.addEventListener("input", async () => {
    const found = await search(box);
    if (found === null) { close(); return; }
    matches = found.slice(0, 8);
    active = 0;
    draw();
  });
  box.addEventListener("keydown", (event) => {
    if (menu.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      draw();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      event.stopImmediatePropagation();
      pick(matches[active]);
    } else if (event.key === "Escape") {
      close();
    }
  });
  box.addEventListener("blur", close);
}
