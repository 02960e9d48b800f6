// The rubric's checklist, one for every view: STAR parts (or a note that the question
// is not a story), a quantified result, first person, fillers, length. With `quote`,
// a ticked part is a button that shows the words of the answer that earned it.
import { TEXT, state, t } from "./texts.js";

function item(label, ok, quote) {
  const li = document.createElement("li");
  li.className = ok ? "ok" : "missing";
  if (ok && quote) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "evidence-link";
    button.title = t("showEvidence");
    button.textContent = `✓ ${label}`;
    button.addEventListener("click", quote);
    li.append(button);
  } else {
    li.textContent = `${ok ? "✓" : "✗"} ${label}`;
  }
  return li;
}

export function checklist(analysis, showEvidence = null) {
  const evidence = analysis.evidence || {};
  const quote = (part) => (showEvidence && evidence[part] ? () => showEvidence(evidence[part]) : null);
  const items = [];
  if (analysis.behavioural === false) {
    const note = document.createElement("li");
    note.className = "na";
    note.textContent = t("notStar");
    items.push(note, item(t("conclusionFirst"), analysis.conclusion_first));
  } else {
    for (const [part, ok] of Object.entries(analysis.star)) {
      items.push(item(TEXT[state.lang].star[part], ok, quote(part)));
    }
    items.push(item(t("quantified"), analysis.quantified_result));
  }
  // As the coaching reads it: "I" at least once and not outweighed by "we".
  items.push(item(t("firstPerson"), analysis.owned ?? analysis.first_person));
  items.push(item(t("fillers", { n: analysis.filler_words }), analysis.filler_words <= 2));
  // Ticked only within the good length the score reads (a green "45 words" sat next to
  // "too short"); older attempts without the range keep a plain count.
  const [low, high] = analysis.length_range || [0, Infinity];
  items.push(item(t("words", { n: analysis.word_count }), low <= analysis.word_count && analysis.word_count <= high));
  return items;
}
