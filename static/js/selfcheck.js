// The self-check page works without JavaScript; this only hides questions that do not apply
// and narrows the disease list to the chosen department.
(function () {
  "use strict";
  var form = document.getElementById("answers");
  if (!form) return;

  var relation = form.querySelector("#id_relation");
  var department = form.querySelector("#id_department");
  var disease = form.querySelector("#id_disease");
  var proxyOnly = form.querySelectorAll(".js-proxy-only");
  var onlineOnly = form.querySelectorAll(".js-online-only");
  var allDiseases = disease ? Array.prototype.slice.call(disease.children) : [];

  function show(nodes, visible) {
    Array.prototype.forEach.call(nodes, function (node) { node.hidden = !visible; });
  }

  function updateRelation() {
    show(proxyOnly, relation.value !== "self");
  }

  function updateMode() {
    var inPerson = form.querySelector("input[name=mode][value=in_person]");
    show(onlineOnly, !(inPerson && inPerson.checked));
  }

  function updateDiseases() {
    var code = department.value;
    var chosen = disease.value;
    disease.textContent = "";
    allDiseases.forEach(function (node) {
      if (!code || node.tagName !== "OPTGROUP") {
        disease.appendChild(node);
        return;
      }
      // Keep only this department's group of diseases, and the "not in this list" group.
      var options = node.querySelectorAll("option");
      var first = options.length ? options[0].value : "";
      if (first.indexOf(code + ":") === 0 || first === "-") disease.appendChild(node);
    });
    disease.value = chosen;
    if (disease.value !== chosen) disease.value = "";
  }

  if (relation) { relation.addEventListener("change", updateRelation); updateRelation(); }
  form.addEventListener("change", function (event) {
    if (event.target.name === "mode") updateMode();
  });
  updateMode();
  if (department && disease) {
    department.addEventListener("change", updateDiseases);
    updateDiseases();
  }

  var result = document.getElementById("result");
  if (result) result.focus();
})();
