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

async function move(conversationId, queueId) {
  status.textContent = "Moving…";
  const response = await fetch(`/conversations/${conversationId}/move`, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify({ queue_id: Number(queueId) }),
  });
  status.textContent = response.ok ? "Moved." : `Not moved: ${await response.text()}`;
  refreshSoon();
}

board.addEventListener("dragstart", (event) => {
  const card = event.target.closest("[data-conversation]");
  if (card) event.dataTransfer.setData("text/plain", card.dataset.conversation);
});
board.addEventListener("dragover", (event) => {
  if (event.target.closest(".lane")) event.preventDefault();
});
board.addEventListener("drop", (event) => {
  const lane = event.target.closest(".lane");
  const id = event.dataTransfer.getData("text/plain");
  if (!lane || !id) return;
  event.preventDefault();
  move(id, lane.dataset.queue);
});
board.addEventListener("submit", (event) => {
  const form = event.target.closest("form.move");
  if (!form) return;
  event.preventDefault();
  move(form.closest("[data-conversation]").dataset.conversation, form.elements.queue_id.value);
});

let attempt = 0;
function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`);
  socket.addEventListener("open", () => { attempt = 0; });
  socket.addEventListener("message", (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "event" || data.type === "reset") refreshSoon();
  });
  socket.addEventListener("close", () => {
    attempt += 1;
    setTimeout(connect, Math.min(15000, 500 * 2 ** attempt));
  });
}
connect();
