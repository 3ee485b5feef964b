// The article editor: an image or file chosen is uploaded at once and its Markdown inserted
// where the cursor is (without JavaScript the upload form still works and answers the Markdown).
const file = document.getElementById("kb-file");
const body = document.getElementById("kb-body");
const status = document.getElementById("kb-upload-status");
const form = document.getElementById("kb-upload");

file?.addEventListener("change", async () => {
  if (!file.files.length) return;
  const data = new FormData();
  data.append("file", file.files[0]);
  status.textContent = "Uploading…";
  const response = await fetch(form.action, { method: "POST", body: data });
  if (!response.ok) {
    status.textContent = await response.text();
    return;
  }
  const { markdown } = await response.json();
  const at = body.selectionStart ?? body.value.length;
  body.value = `${body.value.slice(0, at)}${markdown}${body.value.slice(at)}`;
  body.focus();
  status.textContent = "Added to the text.";
  file.value = "";
});
