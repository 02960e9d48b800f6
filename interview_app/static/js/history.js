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

async function compareWithPrevious(attempt) {
  hideCompare();
  if (!attempt.previous_id || attempt.kind !== "feedback") return;
  const previous = await getJson(`${BASE}/api/attempts/${attempt.previous_id}`).catch(() => null);
  if (!previous) return;
  hx.change.textContent = rubricChange(previous, attempt);
  wordDiff(previous.answer, attempt.answer);
  hx.compare.hidden = false;
}

function drawChart(progress) {
  if (!window.Chart) return;
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
    data: { labels: weeks, datasets },
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
  $("review-weak").textContent = queue.weak_parts.length
    ? t("reviewWeak", { parts: queue.weak_parts.map((w) => `${t(`part_${w.part}`)} (${w.missing_in}/${w.of})`).join(", ") })
    : "";
}

let practiseNext = () => {};

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
    hx.weakest.textContent = progress.weakest ? t("weakest", { part: partName(progress.weakest) }) : "";
    const pace = (progress.pace || []).map((p) => t("paceWeek", { week: p.week, rate: p.rate, unit: perMinute(p.unit) }));
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

export function start({ practise }) {
  practiseNext = (item) => practise(item.question, "", true);
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
    await fetch(`${BASE}/api/attempts`, { method: "DELETE" });
    hx.attempt.hidden = true;
    hideCompare();
    refreshHistory();
  });
  refreshHistory();
}
