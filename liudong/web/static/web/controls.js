// Small page controls without inline handlers (the Content-Security-Policy blocks those):
// [data-autosubmit] submits its form when changed; [data-print] prints the page.
document.addEventListener("change", (event) => {
  const control = event.target.closest("[data-autosubmit]");
  if (control && control.form) {
    control.form.requestSubmit();
  }
});
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
