// The page's entry: each view started once, and the language switch that redraws them.
import * as historyView from "./history.js";
import * as interview from "./interview.js";
import { $ } from "./page.js";
import * as practice from "./practice.js";
import { applyTexts, setLanguage, state } from "./texts.js";

const picker = $("language");

function applyLanguage() {
  applyTexts();
  picker.value = state.lang;
  practice.applyLanguage();
  interview.applyLanguage();
}

// Everything on screen is redrawn in the new language ("점수 2/5 scored by rules" was
// left half in each), and the choice is kept for the next visit.
function switchLanguage(lang) {
  setLanguage(lang);
  applyLanguage();
  historyView.refreshHistory();
}

picker.addEventListener("change", () => switchLanguage(picker.value));
applyLanguage();
practice.start();
historyView.start({ practise: practice.practise, drill: interview.startDrill, language: switchLanguage });
interview.start();
