// Progressive enhancement for the organisation form: offer only the parishes of the chosen
// municipality. Without JavaScript the parish list is grouped by municipality and the server
// checks that the two match.
(function () {
  var municipality = document.getElementById("municipality");
  var parish = document.getElementById("parish");
  if (!municipality || !parish) return;
  var groups = Array.prototype.slice.call(parish.querySelectorAll("optgroup"));
  function filter() {
    var chosen = municipality.options[municipality.selectedIndex];
    var name = chosen && chosen.value ? chosen.text : null;
    var selected = parish.value;
    groups.forEach(function (group) { if (group.parentNode) parish.removeChild(group); });
    groups.forEach(function (group) { if (!name || group.label === name) parish.appendChild(group); });
    parish.value = selected;
    if (parish.value !== selected) parish.value = "";
  }
  municipality.addEventListener("change", filter);
  filter();
})();
