// Progressive enhancement for the workflow picture: zoom buttons. Without scripts the picture
// shows at its natural size in a scrolling box, and opens on its own for the browser's zoom.
(function () {
  var bar = document.querySelector(".diagram-zoom");
  var img = document.querySelector(".diagram-view img");
  if (!bar || !img) return;
  var scale = 1;
  function apply() {
    if (!img.naturalWidth) return;
    img.style.width = Math.round(img.naturalWidth * scale) + "px";
  }
  function fit() {
    var box = img.parentNode.clientWidth - 8;
    scale = img.naturalWidth ? Math.min(1, box / img.naturalWidth) : 1;
    apply();
  }
  bar.addEventListener("click", function (event) {
    var how = event.target.getAttribute("data-zoom");
    if (how === "in") scale = Math.min(4, scale * 1.25);
    else if (how === "out") scale = Math.max(0.2, scale / 1.25);
    else if (how === "natural") scale = 1;
    else if (how === "fit") { fit(); return; }
    else return;
    apply();
  });
  function start() {
    apply();
    var box = img.parentNode;  // a picture wider than its box starts at its middle, where it begins
    box.scrollLeft = Math.max(0, (img.offsetWidth - box.clientWidth) / 2);
  }
  bar.hidden = false;
  if (img.complete) start(); else img.addEventListener("load", start);
})();
