// shop/product.html (a static file, not inline: CSP's script-src 'self').
// Progressive enhancement: switch colour and size in place. Every swatch and size is a
// plain link that works without JavaScript; this only saves the page load.
(function () {
  const variants = JSON.parse(document.getElementById("variants").textContent);
  const key = (c, s) => c + "\u0000" + s;
  const byCombo = new Map(variants.map(v => [key(v.color, v.size), v]));
  const sizes = [...document.querySelectorAll(".sizes > *")].map(el => el.textContent.trim());
  const $ = id => document.getElementById(id);
  function show(color, size) {
    const v = byCombo.get(key(color, size));
    if (!v) return false;
    $("variant-image").src = v.image; $("price").textContent = v.price; $("color-name").textContent = color;
    const stock = $("stock");
    if (v.note) { stock.replaceChildren(Object.assign(document.createElement("span"), {className: "stock-note", textContent: v.note})); }
    else if (v.available) { stock.textContent = "In stock"; }
    else { stock.replaceChildren(Object.assign(document.createElement("span"), {className: "oos", textContent: "Out of stock"})); }
    $("sku").textContent = "SKU " + v.sku;
    $("variant-id").value = v.id; $("add-button").disabled = !v.available;
    document.querySelectorAll(".swatches a").forEach(a =>
      a.classList.toggle("on", new URL(a.href).searchParams.get("color") === color));
    const box = document.querySelector(".sizes");
    box.replaceChildren(...sizes.map(s => {
      const w = byCombo.get(key(color, s));
      const el = document.createElement(w && w.available ? "a" : "span");
      el.textContent = s;
      el.className = "size" + (s === size ? " on" : "") + (w && w.available ? "" : " off");
      if (w && w.available) el.href = "?" + new URLSearchParams({color, size: s});
      return el;
    }));
    history.replaceState(null, "", "?" + new URLSearchParams({color, size}));
    return true;
  }
  document.querySelector(".product").addEventListener("click", event => {
    const link = event.target.closest(".swatches a, .sizes a");
    if (!link) return;
    const p = new URL(link.href).searchParams;
    let color = p.get("color"), size = p.get("size");
    if (!(byCombo.get(key(color, size)) || {}).available) {
      const first = sizes.find(s => (byCombo.get(key(color, s)) || {}).available);
      size = first || size;
    }
    if (show(color, size)) event.preventDefault();
  });
})();
