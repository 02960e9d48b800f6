// The practice history beside the practice page: attempts newest first, one opened,
// "practise again", a retry compared with the previous attempt (a word diff of the
// answers by jsdiff, split on spaces so Korean compares by eojeol, and what changed
// in the rubric), a score-over-time chart per category (Chart.js), the weakest part,
// delete one or all, export. Everything is built with text nodes (model text through
// render.js): no candidate or model text ever becomes markup.
import { BASE, $ } from "./page.js";
import { renderInto } from "./render.js";
import { TEXT, partName, state, t } from "./texts.js";

const hx = {
  list: $("attempts"), empty: $("history-empty"), weakest: $("weakest"),
  chart: $("progress-chart"), deleteAll: $("delete-all"), attempt: $("attempt"),
  title: $("attempt-title"), question: $("attempt-question"), answer: $("attempt-answer"),
  text: $("attempt-text"), again: $("practise-again"), deleteOne: $("delete-one"),
  delivery: $("attempt-delivery"), pace: $("pace"), recording: $("attempt-recording"),
  compare: $("compare"), change: $("rubric-change"), diff: $("diff"),
};
let opened = null; // the attempt shown in full
let chart = null;

const getJson = (url) => fetch(url).then((r) => (r.ok ? r.json() : Promise.reject(r.status)));
const when = (iso) => new Date(iso).toLocaleString(state.lang === "ko" ? "ko-KR" : "en-GB",
  { dateStyle: "medium", timeStyle: "short" });

function showAttempt(a) {
  opened = a;
  hx.attempt.hidden = false;
  const score = a.score ? ` · ${a.score}/5` : "";
  const kind = a.kind === "feedback" ? t("feedbackKind") : t("answerKind");
  hx.title.textContent = `${when(a.created_at)} · ${kind}${score}`;
  hx.question.textContent = a.question;
  hx.answer.textContent = a.answer || "";
  hx.answer.hidden = !a.answer;
  hx.delivery.hidden = !a.delivery;
  hx.delivery.textContent = a.delivery ? describeDelivery(a.delivery) : "";
  hx.recording.hidden = !a.has_recording;
  if (a.has_recording) hx.recording.src = `${BASE}/api/attempts/${a.id}/recording`;
  else hx.recording.removeAttribute("src");
  renderInto(hx.text, a.text);
}

const perMinute = (unit) => (unit === "syllables_per_minute" ? t("perMinuteKo") : t("perMinuteEn"));

function describeDelivery(d) {
  const pace = t("dPace", { v: d.rate.value, unit: perMinute(d.rate.unit), verdict: t(`pace_${d.rate.verdict}`) });
  const fillers = d.filler_words ? t("dFillers", { n: d.filler_words, words: d.fillers.join(", ") }) : t("dNoFillers");
  return `${t("deliveryTitle")}: ${pace} · ${t("dFirst", { s: d.time_to_first_word_seconds })} · ${fillers}`;
}

function rubricChange(before, after) {
  const notes = [];
  const a = before.analysis || {}, b = after.analysis || {};
  if (a.score && b.score) notes.push(t("scoreChange", { a: a.score, b: b.score }));
  for (const part of Object.keys(b.star || {})) {
    const was = (a.star || {})[part], now = b.star[part];
    if (was === false && now === true) notes.push(t("nowPresent", { part: partName(part) }));
    if (was === true && now === false) notes.push(t("nowMissing", { part: partName(part) }));
  }
  return notes.length > 1 || (notes.length === 1 && !a.score) ? notes.join(" · ")
    : notes.concat([t("noChange")]).join(" · ");
}

function wordDiff(before, after) {
  hx.diff.classList.remove("columns");
  // Whitespace-separated units: words in English, eojeol in Korean.
  const split = (s) => (s || "").split(/(\s+)/).filter((x) => x !== "");
  const parts = window.Diff ? window.Diff.diffArrays(split(before), split(after)) :
    [{ removed: true, value: split(before) }, { added: true, value: split(after) }];
  hx.diff.replaceChildren(...parts.map((p) => {
    const el = document.createElement(p.added ? "ins" : p.removed ? "del" : "span");
    el.textContent = p.value.join("");
    return el;
  }));
}

export function hideCompare() {
  hx.compare.hidden = true;
}

// A retry is compared with the previous attempt at the same question in the same
// language only (a Korean retry was word-diffed against the English attempt); when most
// words changed, the two answers are shown side by side instead of an unreadable diff.
async function compareWithPrevious(attempt) {
  hideCompare();
  if (!attempt.previous_id || attempt.kind !== "feedback") return;
  const previous = await getJson(`${BASE}/api/attempts/${attempt.previous_id}`).catch(() => null);
  if (!previous) return;
  hx.compare.hidden = false;
  if (previous.language !== attempt.language) {
    hx.change.textContent = t("otherLanguage");
    hx.diff.replaceChildren();
    return;
  }
  hx.change.textContent = rubricChange(previous, attempt);
  if (changedMost(previous.answer, attempt.answer)) sideBySide(previous.answer, attempt.answer);
  else wordDiff(previous.answer, attempt.answer);
}

function changedMost(before, after) {
  const words = (s) => (s || "").split(/\s+/).filter(Boolean);
  const a = words(before), b = new Set(words(after));
  const kept = a.filter((w) => b.has(w)).length;
  return kept < Math.max(a.length, b.size) / 2;
}

function sideBySide(before, after) {
  hx.diff.replaceChildren(...[[t("previousAnswer"), before], [t("newAnswer"), after]].map(([title, text]) => {
    const column = document.createElement("div");
    column.dataset.testid = "compare-column";
    const head = document.createElement("p");
    head.className = "weakest";
    head.textContent = title;
    const body = document.createElement("p");
    body.textContent = text || "";
    column.append(head, body);
    return column;
  }));
  hx.diff.classList.add("columns");
}

// An ISO week ("2026-W50") as the days it spans, in the page's language ("Dec 7–13",
// "12월 7일~13일").
function weekLabel(week) {
  const [year, number] = week.split("-W").map(Number);
  const jan4 = new Date(Date.UTC(year, 0, 4));
  const monday = new Date(jan4);
  monday.setUTCDate(jan4.getUTCDate() - ((jan4.getUTCDay() + 6) % 7) + (number - 1) * 7);
  const sunday = new Date(monday);
  sunday.setUTCDate(monday.getUTCDate() + 6);
  const format = new Intl.DateTimeFormat(state.lang === "ko" ? "ko-KR" : "en-US",
    { month: "short", day: "numeric", timeZone: "UTC" });
  return format.formatRange ? format.formatRange(monday, sunday) : `${format.format(monday)} – ${format.format(sunday)}`;
}

function drawChart(progress) {
  if (!window.Chart) return;
  hx.chart.parentElement.hidden = progress.length === 0; // no empty axes
  if (!progress.length) {
    if (chart) chart.destroy();
    chart = null;
    return;
  }
  const weeks = [...new Set(progress.map((p) => p.week))].sort();
  const categories = [...new Set(progress.map((p) => p.category))];
  const datasets = categories.map((c) => ({
    label: TEXT[state.lang].categories[c] || c,
    data: weeks.map((w) => {
      const row = progress.find((p) => p.week === w && p.category === c);
      return row ? row.mean_score : null;
    }),
    spanGaps: true,
  }));
  if (chart) chart.destroy();
  chart = new window.Chart(hx.chart, {
    type: "line",
    data: { labels: weeks.map(weekLabel), datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: { y: { min: 1, max: 5, ticks: { stepSize: 1 } } },
      plugins: { title: { display: true, text: t("chartTitle") } },
    },
  });
  hx.chart.setAttribute("aria-label", t("chartTitle"));
}

// "Practise next": what the review queue says is due, each with its reason; one click
// fills the form with the question (the same language) and puts the cursor in the answer.
async function refreshReview() {
  const queue = await getJson(`${BASE}/api/review`).catch(() => null);
  if (!queue) return;
  const due = $("review-due");
  due.replaceChildren(...queue.due.map((item) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "attempt-link";
    button.dataset.testid = "review-item";
    button.textContent = `${item.question} · ${item.reason}`;
    button.addEventListener("click", () => practiseNext(item));
    li.append(button);
    return li;
  }));
  const next = queue.next_due_at ? t("reviewNext", { when: when(queue.next_due_at) }) : "";
  $("review-empty").textContent = queue.due.length ? "" : [t("reviewEmpty"), next].join(" ").trim();
  // The weak parts, weightiest first (the server's one reading of "what is weak"), each a
  // drill of its own.
  const weak = $("review-weak");
  weak.replaceChildren();
  if (queue.weak_parts.length) {
    weak.append(t("reviewWeakTitle"), " ");
    weak.append(...queue.weak_parts.slice(0, 3).map((w) => drillButton(w.part, `${w.missing_in}/${w.of}`)));
  }
}

// A button that starts a drill on `part` (a short mock interview aimed at it).
export function drillButton(part, detail = "") {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "secondary drill";
  button.dataset.testid = "drill";
  button.dataset.part = part;
  button.title = t("drillHint");
  button.textContent = t("drill", { part: t(`part_${part}`) }) + (detail ? ` (${detail})` : "");
  button.addEventListener("click", () => startDrill(part));
  return button;
}

let practiseNext = () => {};
let startDrill = () => {};

export async function refreshHistory() {
  refreshReview();
  const page = await getJson(`${BASE}/api/attempts?limit=50`).catch(() => null);
  if (!page) return;
  hx.empty.hidden = page.attempts.length > 0;
  hx.list.replaceChildren(...page.attempts.map((a) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "attempt-link";
    const score = a.score ? `${a.score}/5 · ` : "";
    button.textContent = `${score}${when(a.created_at)} · ${a.question}`;
    button.addEventListener("click", async () => {
      showAttempt(await getJson(`${BASE}/api/attempts/${a.id}`));
    });
    li.append(button);
    return li;
  }));
  const progress = await getJson(`${BASE}/api/progress`).catch(() => null);
  if (progress) {
    hx.weakest.replaceChildren();
    if (progress.weakest) {
      hx.weakest.append(t("weakest", { part: t(`part_${progress.weakest}`) }), " ", drillButton(progress.weakest));
    }
    const pace = (progress.pace || []).map((p) => t("paceWeek", { week: weekLabel(p.week), rate: p.rate, unit: perMinute(p.unit) }));
    hx.pace.textContent = pace.length ? `${t("paceTitle")}: ${pace.join(" · ")}` : "";
    drawChart(progress.progress);
  }
}

export async function onAttemptSaved(done) {
  await refreshHistory();
  if (!done.attempt_id) return;
  const attempt = await getJson(`${BASE}/api/attempts/${done.attempt_id}`).catch(() => null);
  if (attempt) await compareWithPrevious(attempt);
}

export function start({ practise, drill, language }) {
  startDrill = drill;
  // A due question is practised in its own language: the page follows it.
  practiseNext = (item) => {
    if (item.language !== state.lang) language(item.language);
    practise(item.question, "", true);
  };
  hx.again.addEventListener("click", () => {
    if (opened) practise(opened.question, opened.answer);
  });
  hx.deleteOne.addEventListener("click", async () => {
    if (!opened) return;
    await fetch(`${BASE}/api/attempts/${opened.id}`, { method: "DELETE" });
    hx.attempt.hidden = true;
    opened = null;
    refreshHistory();
  });
  hx.deleteAll.addEventListener("click", async () => {
    if (!window.confirm(t("confirmDeleteAll"))) return;
    const response = await fetch(`${BASE}/api/attempts`, { method: "DELETE" }).catch(() => null);
    hx.attempt.hidden = true;
    hideCompare();
    await refreshHistory();
    $("history-status").textContent = response && response.ok ? t("deletedAll") : t("network");
  });
  refreshHistory();
}
