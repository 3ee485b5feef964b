// What the desk's modules share: calling the desk's JSON commands, building elements.

const csrf = document.body.dataset.csrf;

export async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    ...options,
    headers: { Accept: "application/json", "X-CSRF-Token": csrf, ...(options.headers || {}) },
  });
  if (response.status === 401) {
    location.href = "/signin?next=" + encodeURIComponent(location.pathname + location.search);
    throw new Error("signed out");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
  return data;
}

// A POST with a JSON body.
export function command(path, body = {}) {
  return api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}
