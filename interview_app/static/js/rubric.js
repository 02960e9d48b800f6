// The rubric's checklist, one for every view: STAR parts (or a note that the question
// is not a story), a quantified result, first person, fillers, length. With `quote`,
// a ticked part is a button that shows the words of the answer that earned it.
import { TEXT, state, t } from "./texts.js";

// `ok`: true (ticked), false (a mark of the score the answer misses: a cross) or ADVICE
// (missed, but not a mark the score reads: a 5/5 sat beside a red "✗ 100 words", since
// the scale gives a complete story of 50 words a 5 and only advises 150-300).
const ADVICE = "advice";

function item(label, ok, quote) {
  const li = document.createElement("li");
  if (ok === ADVICE) {
    li.className = ADVICE;
    li.title = t("adviceOnly");
    li.textContent = `○ ${label}`;
    return li;
  }
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
      // The scale never reads Task (docs/labelling.md): a story without it can score 5.
      const mark = ok || (part === "task" ? ADVICE : false);
      items.push(item(TEXT[state.lang].star[part], mark, quote(part)));
    }
    items.push(item(t("quantified"), analysis.quantified_result));
  }
  // As the coaching reads it: "I" at least once and not outweighed by "we". A story's
  // scale reads only "we" outweighing "I" (a Korean story may name no subject and score
  // 5); the other answers' scale, only whether "I" is there at all.
  const owned = analysis.owned ?? analysis.first_person;
  const story = analysis.behavioural !== false;
  const read = story ? analysis.we_heavy ?? true : !analysis.first_person;
  items.push(item(t("firstPerson"), owned || (read ? false : ADVICE)));
  items.push(item(t("fillers", { n: analysis.filler_words }), analysis.filler_words <= 2));
  items.push(item(t("words", { n: analysis.word_count }), lengthMark(analysis)));
  return items;
}

// Ticked within the good length (a green "45 words" sat next to "too short"); outside
// it, a cross where the length holds the score down and advice where it does not. Older
// attempts without the ranges keep a plain count.
function lengthMark(analysis) {
  const n = analysis.word_count;
  const within = ([low, high]) => low <= n && n <= high;
  const good = analysis.length_range || [0, Infinity];
  if (within(good)) return true;
  // Stored before `length_scored`: a story's scale allows a third of the shortest good one.
  const story = analysis.behavioural !== false && analysis.length_range;
  const scored = analysis.length_scored || (story ? [Math.ceil(good[0] / 3), good[1]] : good);
  return within(scored) ? ADVICE : false;
}
