// Progressive enhancement: the server writes the time left on the last day; this keeps it ticking.
(function () {
  var el = document.querySelector("[data-countdown-seconds]");
  if (!el) return;
  var end = Date.now() + parseInt(el.getAttribute("data-countdown-seconds"), 10) * 1000;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round((end - Date.now()) / 1000));
    var text = pad(Math.floor(left / 3600)) + ":" + pad(Math.floor(left % 3600 / 60)) + ":" + pad(left % 60);
    var out = el.querySelector("output");
    if (!out) { out = document.createElement("output"); el.appendChild(document.createTextNode(" ")); el.appendChild(out); }
    out.textContent = text;
    if (left > 0) setTimeout(tick, 1000);
  }
  tick();
})();
