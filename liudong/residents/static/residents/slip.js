// The code slip's print button (no inline script: the site's CSP allows 'self' only).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
