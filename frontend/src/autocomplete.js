// Turns a long <select data-autocomplete> (the country a patient lives in) into GOV.UK's accessible
// autocomplete: type "espa" or "Espana" and pick "España". The <select> stays in the form and is
// what is submitted; without this script it is an ordinary drop-down. The words a screen reader
// hears come from the page (data-t-* attributes, translated by Django), not from here.
import accessibleAutocomplete from "accessible-autocomplete";

// "España" and "espana" match, as do "Côte d'Ivoire" and "cote d ivoire".
const fold = (text) =>
  text
    .normalize("NFD")
    .replace(/\p{Diacritic}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => String(values[key] ?? ""));

function enhance(select) {
  const t = select.dataset;
  const options = [...select.options].filter((o) => o.value);
  const entries = options.map((o) => ({ option: o, text: o.textContent.trim(), folded: fold(o.textContent) }));

  // Countries whose name starts with what was typed come first, then those with a word that does,
  // then the rest that contain it.
  const source = (query, populate) => {
    const q = fold(query);
    if (!q) return populate([]);
    const rank = (e) => (e.folded.startsWith(q) ? 0 : ` ${e.folded}`.includes(` ${q}`) ? 1 : 2);
    populate(
      entries
        .filter((e) => e.folded.includes(q))
        .sort((a, b) => rank(a) - rank(b))
        .map((e) => e.text),
    );
  };
  const byText = (text) => entries.find((e) => e.folded === fold(text || ""));
  // The field's own hint and error, which the <select> was described by, are said with the usage hint.
  const described = (select.getAttribute("aria-describedby") || "")
    .split(/\s+/)
    .map((id) => document.getElementById(id)?.textContent.trim())
    .filter(Boolean)
    .join(" ");
  const selected = select.options[select.selectedIndex];

  accessibleAutocomplete.enhanceSelectElement({
    selectElement: select,
    source,
    defaultValue: selected && selected.value ? selected.textContent.trim() : "",
    minLength: 1,
    displayMenu: "overlay", // over the page, so closing it does not move the button being pressed
    showNoOptionsFound: true,
    inputClasses: select.getAttribute("aria-invalid") === "true" ? "autocomplete__input--error" : null,
    onConfirm: (text) => {
      const match = byText(text);
      if (match) select.value = match.option.value;
    },
    tNoResults: () => t.tNoResults,
    tStatusQueryTooShort: (n) => fill(t.tTooShort, { n }),
    tStatusNoResults: () => t.tNoResults,
    tStatusSelectedOption: (option, length, index) => fill(t.tSelected, { option, n: length, index: index + 1 }),
    tStatusResults: (length, selectedOption) =>
      fill(length === 1 ? t.tResultsOne : t.tResultsMany, { n: length }) + (selectedOption ? ` ${selectedOption}` : ""),
    tAssistiveHint: () => [described, t.tHint].filter(Boolean).join(" "),
  });

  // What is in the box when the form is sent is what counts: a country typed in full is chosen, a
  // box emptied or holding something that is not a country sends no country (the page then asks).
  const input = document.getElementById(select.id.replace(/-select$/, ""));
  select.form?.addEventListener("submit", () => {
    const match = byText(input?.value);
    select.value = match ? match.option.value : "";
  });
}

document.querySelectorAll("select[data-autocomplete]").forEach(enhance);
