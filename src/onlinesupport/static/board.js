// The live board: lanes are fetched again (as HTML) after every change the desk socket
// reports; conversations move by drag and drop or with the Move form on each card.
const board = document.getElementById("board");
const status = document.getElementById("board-status");
const csrf = document.body.dataset.csrf;
let timer = 0;

async function refresh() {
  const response = await fetch("/board?part=lanes", { credentials: "same-origin" });
  if (response.ok) board.innerHTML = await response.text();
}

function refreshSoon() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 200);
}

async function post(path, body, done) {
  status.textContent = "Working…";
  const response = await fetch(path, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
  });
  status.textContent = response.ok ? done : `Not done: ${await response.text()}`;
  refreshSoon();
}

const move = (id, queueId) => post(`/conversations/${id}/move`, { queue_id: Number(queueId) }, "Moved.");
const give = (id, agentId) => post(`/conversations/${id}/assign`, { agent_id: String(agentId) }, "Given.");

board.addEventListener("dragstart", (event) => {
  const card = event.target.closest("[data-conversation]");
  if (card) event.dataTransfer.setData("text/plain", card.dataset.conversation);
});
board.addEventListener("dragover", (event) => {
  if (event.target.closest(".lane")) event.preventDefault();
});
// Dropped on an agent: theirs; anywhere else in a lane: that queue.
board.addEventListener("drop", (event) => {
  const lane = event.target.closest(".lane");
  const id = event.dataTransfer.getData("text/plain");
  if (!lane || !id) return;
  event.preventDefault();
  const agent = event.target.closest("[data-agent]");
  if (agent) give(id, agent.dataset.agent);
  else move(id, lane.dataset.queue);
});
board.addEventListener("submit", (event) => {
  const form = event.target.closest("form.move, form.give");
  if (!form) return;
  event.preventDefault();
  const id = form.closest("[data-conversation]").dataset.conversation;
  if (form.classList.contains("give")) give(id, form.elements.agent_id.value);
  else move(id, form.elements.queue_id.value);
});

let attempt = 0;
function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`);
  socket.addEventListener("open", () => { attempt = 0; });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "event" || data.type === "reset") refreshSoon();
  });
  socket.addEventListener("close", (closed) => {
    if (closed.code === 4401) { location.reload(); return; } // the session ended
    attempt += 1;
    setTimeout(connect, Math.min(15000, 500 * 2 ** attempt));
  });
}
connect();
