// The practice view: POST /api/streams, then read it (sse.js). Every URL starts from
// BASE, where the server says we are mounted (the body's data-base: "" at the root,
// "/coach" inside a host app); the stream URLs the server answers are complete.
import { onAttemptSaved, hideCompare } from "./history.js";
import { renderInto } from "./render.js";
import { checklist } from "./rubric.js";
import { keepRecording, recorder } from "./recorder.js";
import { readStream } from "./sse.js";
import { BASE, $ } from "./page.js";
import { explain, explainEvent, state, t } from "./texts.js";

const ui = {
  bank: $("bank"), question: $("question"), answer: $("answer"),
  askAnswer: $("ask-answer"), askFeedback: $("ask-feedback"), stop: $("stop"),
  status: $("status"), output: $("output"), badge: $("offline-badge"),
  analysis: $("analysis"), score: $("score"), checklist: $("checklist"),
  verdict: $("verdict"), rubricSource: $("rubric-source"), evidence: $("evidence"),
};

const voice = recorder({
  button: $("record"), time: $("record-time"), level: $("record-level"), box: ui.answer,
  panel: $("delivery"), status: $("record-status"), keep: $("keep-recording"),
  targetSeconds: () => 120,
});
let keeping = null; // the recording to keep with the attempt being made
let bank = [];
let reading = null; // the stream being read
let streamUrl = null;
let text = "";
let askedAnswer = ""; // the answer the current feedback is about
let renderQueued = false;

function render() {
  renderQueued = false;
  renderInto(ui.output, text);
}

function queueRender() {
  if (!renderQueued) {
    renderQueued = true;
    requestAnimationFrame(render);
  }
}

function setStatus(name, message) {
  ui.status.dataset.state = name;
  ui.status.textContent = message;
  const busy = name === "streaming";
  ui.output.setAttribute("aria-busy", String(busy));
  ui.stop.disabled = !busy;
  ui.askAnswer.disabled = busy;
  ui.askFeedback.disabled = busy;
}

export function fillBank() {
  const chosen = ui.bank.value;
  ui.bank.replaceChildren(new Option(t("pickNone"), ""));
  for (const category of bank) {
    const group = document.createElement("optgroup");
    group.label = category.name[state.lang];
    category.questions.forEach((q, i) => group.append(new Option(q[state.lang], `${category.id}:${i}`)));
    ui.bank.append(group);
  }
  ui.bank.value = chosen;
}

let anchors = { anchors: [], direct: [] };

function fillAnchors() {
  for (const [id, scale] of [["anchors", anchors.anchors], ["anchors-direct", anchors.direct]]) {
    $(id).replaceChildren(...scale.map((a) => {
      const li = document.createElement("li");
      li.value = a.score;
      li.textContent = a[state.lang];
      return li;
    }));
  }
}

let shown = null; // the analysis on screen, redrawn in a new language

export function applyLanguage() {
  fillBank();
  fillAnchors();
  if (ui.status.dataset.state === "idle") setStatus("idle", t("idle"));
  if (ui.status.dataset.state === "done") setStatus("done", t("done"));
  if (shown) showAnalysis(shown);
}

function pickQuestion() {
  const [id, index] = ui.bank.value.split(":");
  const category = bank.find((c) => c.id === id);
  if (category) ui.question.value = category.questions[Number(index)][state.lang];
}

function closeStream() {
  if (reading) reading.close();
  reading = null;
}

// The quote from the candidate's answer that earned a part, highlighted in place:
// text nodes only, so nothing in the answer can become markup.
function showEvidence(quote) {
  const at = quote ? askedAnswer.indexOf(quote) : -1;
  ui.evidence.hidden = at < 0;
  if (at < 0) return;
  const mark = document.createElement("mark");
  mark.textContent = quote;
  ui.evidence.replaceChildren(
    document.createTextNode(askedAnswer.slice(0, at)),
    mark,
    document.createTextNode(askedAnswer.slice(at + quote.length)),
  );
}

function showAnalysis(analysis) {
  shown = analysis;
  ui.analysis.hidden = !analysis;
  ui.evidence.hidden = true;
  if (!analysis) return;
  ui.score.textContent = String(analysis.score);
  ui.verdict.textContent = analysis.verdict || "";
  ui.rubricSource.textContent = analysis.source === "model" ? t("byModel") : t("byRules");
  ui.rubricSource.dataset.source = analysis.source || "rules";
  ui.checklist.replaceChildren(...checklist(analysis, showEvidence));
}

async function ask(kind) {
  closeStream();
  const question = ui.question.value.trim();
  const answer = ui.answer.value.trim();
  if (!question) return setStatus("error", t("needQuestion"));
  if (kind === "feedback" && !answer) return setStatus("error", t("needAnswer"));
  const body = { kind, question, language: state.lang };
  if (kind === "feedback") body.answer = answer;
  const spoken = kind === "feedback" ? voice.take() : { delivery: null, audio: null };
  if (spoken.delivery) body.delivery = spoken.delivery; // how the recorded answer was said
  keeping = spoken.audio;
  askedAnswer = answer;
  text = "";
  render();
  showAnalysis(null);
  hideCompare();
  setStatus("streaming", t("connecting"));
  // On a phone the result is below the fold: bring its status into view, or the only
  // sign that anything started was the buttons greying out.
  if (ui.status.getBoundingClientRect().top > window.innerHeight) {
    ui.status.scrollIntoView({ block: "start" });
  }
  let response;
  try {
    response = await fetch(`${BASE}/api/streams`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    return setStatus("error", t("network"));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    return setStatus("error", explain(response.status, data, response.headers.get("Retry-After")));
  }
  read(data.url);
}

function read(url) {
  streamUrl = url;
  reading = readStream(url, {
    text(delta) {
      text += delta;
      queueRender();
      if (ui.status.dataset.state !== "streaming" || ui.status.textContent !== t("writing")) {
        setStatus("streaming", t("writing"));
      }
    },
    done(data) {
      reading = null;
      render();
      ui.badge.hidden = data.backend !== "offline";
      showAnalysis(data.analysis || null);
      setStatus("done", data.saved === false ? t("notSaved") : t("done"));
      const audio = keeping;
      keeping = null;
      keepRecording(data.attempt_id, audio).then(() => onAttemptSaved(data));
    },
    failed(data) {
      reading = null;
      render();
      setStatus("error", explainEvent(data));
    },
    reconnecting() {
      setStatus("streaming", t("reconnecting"));
    },
    gone() {
      reading = null;
      render();
      setStatus("error", t("lost"));
    },
  });
}

function stop() {
  if (!reading) return;
  closeStream();
  if (streamUrl) fetch(streamUrl, { method: "DELETE" }).catch(() => {});
  render();
  setStatus("idle", t("stopped"));
}

// "Practise again" from the history: the form filled with an earlier attempt.
export function practise(question, answer, toAnswer = false) {
  ui.question.value = question;
  ui.answer.value = answer || "";
  (toAnswer ? ui.answer : ui.question).focus();
}

export function start() {
  ui.askAnswer.addEventListener("click", () => ask("answer"));
  ui.askFeedback.addEventListener("click", () => ask("feedback"));
  ui.stop.addEventListener("click", stop);
  ui.bank.addEventListener("change", pickQuestion);
  fetch(`${BASE}/api/questions`)
    .then((r) => r.json())
    .then((data) => {
      bank = data.categories;
      fillBank();
    })
    .catch(() => {});
  fetch(`${BASE}/api/rubric`)
    .then((r) => r.json())
    .then((data) => {
      anchors = data;
      fillAnchors();
    })
    .catch(() => {});
  fetch(`${BASE}/healthz`)
    .then((r) => r.json())
    .then((data) => {
      ui.badge.hidden = data.backend !== "offline";
    })
    .catch(() => {});
}
