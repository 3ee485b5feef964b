// The contact form: while the question is typed, articles that may answer it appear below it.
// Without JavaScript the same suggestions come after pressing Send.
const form = document.querySelector("form[action='/contact']");
const message = form?.querySelector("textarea[name=message]");
const subject = form?.querySelector("input[name=subject]");
const token = form?.querySelector("input[name=token]");
let timer = 0;
let asked = "";

function suggestionsBox() {
  let box = document.getElementById("suggestions");
  if (!box) {
    box = document.createElement("section");
    box.id = "suggestions";
    box.className = "suggestions";
    box.setAttribute("aria-live", "polite");
    message.closest("label").after(box);
  }
  return box;
}

function answeredForm(article, question) {
  const answered = document.createElement("form");
  answered.method = "post";
  answered.action = "/contact/answered";
  for (const [name, value] of [["article_id", article.id], ["token", token.value], ["question", question]]) {
    const input = document.createElement("input");
    Object.assign(input, { type: "hidden", name, value });
    answered.append(input);
  }
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = "This answered my question";
  answered.append(button);
  return answered;
}

async function suggest() {
  const question = `${subject.value} ${message.value}`.trim();
  if (question.length < 12 || question === asked) return;
  asked = question;
  const response = await fetch(`/help/suggest?q=${encodeURIComponent(question)}`);
  if (!response.ok) return;
  const { articles } = await response.json();
  // No articles, no box (an empty bordered box looked like a broken field).
  if (!articles.length) { document.getElementById("suggestions")?.remove(); return; }
  const box = suggestionsBox();
  box.replaceChildren();
  const title = document.createElement("p");
  title.textContent = "These articles may answer your question:";
  const list = document.createElement("ul");
  for (const article of articles) {
    const link = Object.assign(document.createElement("a"), {
      href: article.url, target: "_blank", rel: "noopener", textContent: article.title });
    const item = document.createElement("li");
    item.append(link, answeredForm(article, question));
    list.append(item);
  }
  box.append(title, list);
}

for (const field of [message, subject]) {
  field?.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 400); });
}
