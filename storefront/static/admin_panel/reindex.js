// admin_panel/catalog.html, while a rebuild runs (a static file, not inline: CSP's script-src 'self').
// Follow a running rebuild; reload once it has finished so the counts above are the new index's.
(function poll() {
  fetch("/admin/catalog/reindex/status", {headers: {"Accept": "application/json"}})
    .then(r => r.ok ? r.json() : null)
    .then(body => {
      const p = body && body.reindex;
      if (p) {
        document.getElementById("reindex-state").textContent = p.stage || p.state;
        document.getElementById("reindex-bar").value = p.percent;
        document.getElementById("reindex-count").textContent = p.indexed + (p.total ? " / " + p.total : "");
        if (!p.running) { location.reload(); return; }
      }
      setTimeout(poll, 1000);
    })
    .catch(() => setTimeout(poll, 3000));
})();
