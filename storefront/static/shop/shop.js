// Every storefront page (a static file: CSP allows no inline scripts or on*="" handlers).
// A <select data-autosubmit> submits its form when changed (the sort order); without
// JavaScript the form's <noscript> button does it.
document.querySelectorAll("select[data-autosubmit]").forEach(select =>
  select.addEventListener("change", () => select.form.submit()));
