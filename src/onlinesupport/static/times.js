// Every time in the desk and on the customer's own page, in the viewer's own time zone. The
// server writes <time datetime> elements in UTC (labelled so, for a page without JavaScript);
// this module rewrites each one, including those added later (live updates, the board's lanes).
// In the desk, when the viewer's clock differs from the business's (the zone customers are
// promised times in, the General queue's), the time names its zone, and its tooltip gives the
// business's time. A page that names no business zone (the customer's) always names the zone.
const viewer = Intl.DateTimeFormat().resolvedOptions().timeZone;
const named = !document.documentElement.dataset.businessZone;
const business = document.documentElement.dataset.businessZone || viewer;
const parts = { year: "numeric", month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" };
const inViewer = new Intl.DateTimeFormat([], parts);
const inViewerNamed = new Intl.DateTimeFormat([], { ...parts, timeZoneName: "short" });
const long = new Intl.DateTimeFormat([], { dateStyle: "full", timeStyle: "short" });
let inBusiness = inViewer;
try {
  inBusiness = new Intl.DateTimeFormat([], { ...parts, timeZone: business });
} catch (e) { /* a zone this browser does not know: show the viewer's time only */ }

function formatTime(value) {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return { text: "", title: "" };
  const here = inViewer.format(date), there = inBusiness.format(date);
  if (named) return { text: inViewerNamed.format(date), title: `${long.format(date)} (${viewer})` };
  if (here === there) return { text: here, title: `${long.format(date)} (${viewer})` };
  return { text: inViewerNamed.format(date),
    title: `${long.format(date)} (${viewer}); ${there} in ${business}, the business's time` };
}

function localise(node) {
  if (!node.dateTime) return;
  const { text, title } = formatTime(node.dateTime);
  if (!text || node.textContent === text) return;
  node.textContent = text;
  node.title = title;
}

function localiseAll(root) {
  if (root.matches && root.matches("time[datetime]")) localise(root);
  if (root.querySelectorAll) root.querySelectorAll("time[datetime]").forEach(localise);
}

localiseAll(document);
new MutationObserver((changes) => {
  for (const change of changes) {
    if (change.type === "attributes") localise(change.target);
    else change.addedNodes.forEach(localiseAll);
  }
}).observe(document.body, { childList: true, subtree: true, attributes: true, attributeFilter: ["datetime"] });
