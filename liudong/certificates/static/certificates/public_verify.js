// The QR code's link is /verify/#LD1... (or #LD2...): the code (her name and ID number) rides in the
// fragment, which the browser never sends to a server. Read it here, drop it from the
// address bar and the history entry, and check it by POST like a pasted code.
document.addEventListener("DOMContentLoaded", () => {
  let code = "";
  try {
    code = decodeURIComponent(window.location.hash.slice(1)).trim();
  } catch {
    return; // not a code: the page asks for one as usual
  }
  // Either version: LD1.BODY.SIG (Ed25519) or LD2.ALGORITHM.BODY.SIG (SM2 under LIUDONG_CRYPTO=sm).
  if (!/^LD[12]\./i.test(code)) {
    return;
  }
  history.replaceState(null, "", window.location.pathname);
  const form = document.querySelector("[data-testid=verify-form]");
  const box = form && form.querySelector("textarea[name=payload]");
  if (!box) {
    return;
  }
  box.value = code;
  form.requestSubmit();
});
