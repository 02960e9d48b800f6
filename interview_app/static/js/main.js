// The page's entry: each view started once, and the language switch that redraws them.
import * as historyView from "./history.js";
import * as interview from "./interview.js";
import { $ } from "./page.js";
import * as practice from "./practice.js";
import { applyTexts, state } from "./texts.js";

const picker = $("language");

function applyLanguage() {
  applyTexts();
  picker.value = state.lang;
  practice.applyLanguage();
}

picker.addEventListener("change", () => {
  state.lang = picker.value;
  applyLanguage();
  historyView.refreshHistory();
});
applyLanguage();
practice.start();
historyView.start({ practise: practice.practise });
interview.start();
