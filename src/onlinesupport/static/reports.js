// The report filters: picking a date means a custom period (the page works without this too).
const period = document.getElementById("f-period");
for (const id of ["f-first", "f-last"]) {
  document.getElementById(id)?.addEventListener("change", () => { if (period) period.value = "custom"; });
}
