// The application's consult step: only the chosen department's diseases are offered. Without
// this script every disease is listed (department — disease) and the server refuses a mismatch.
const department = document.getElementById("id_department");
const disease = document.getElementById("id_disease");

if (department && disease) {
  const all = Array.from(disease.options);
  const narrow = () => {
    const chosen = disease.value;
    const fits = (o) =>
      !o.dataset.department || !department.value || o.dataset.department === department.value;
    disease.replaceChildren(...all.filter(fits));
    disease.value = chosen;
    if (disease.value !== chosen) disease.value = "";
  };
  department.addEventListener("change", narrow);
  narrow();
}
