// Mock interview mode: set up, then a transcript where the interviewer's questions
// stream in (stored streams, read by sse.js), a countdown while you answer, coaching
// under each answer with the rubric's checklist, follow-ups with their reason, and the
// report. The session's id is kept in the address (#interview=<id>), so a reload
// rebuilds the transcript from GET /api/interviews/<id> and resumes the current
// stream (stored, so it is replayed, never regenerated). Each answer names the turn
// it answers, so a double submit can never land on the next question.
import { BASE, $ } from "./page.js";
import { renderInto } from "./render.js";
import { checklist } from "./rubric.js";
import { keepRecording, recorder } from "./recorder.js";
import { readStream } from "./sse.js";
import { drillButton } from "./history.js";
import { explain, explainEvent, state as texts, t } from "./texts.js";

const iv = {
  practice: $("practice-mode"), interview: $("interview-mode"),
  tabPractice: $("mode-practice"), tabInterview: $("mode-interview"),
  setup: $("iv-setup"), role: $("iv-role"), posting: $("iv-posting"), resume: $("iv-resume"),
  questions: $("iv-questions"), seconds: $("iv-seconds"), follow: $("iv-follow"),
  status: $("iv-status"), session: $("iv-session"), transcript: $("iv-transcript"),
  box: $("iv-answer-box"), timer: $("iv-timer"), answer: $("iv-answer"), send: $("iv-send"),
  report: $("iv-report-link"), speak: $("iv-speak"), finished: $("iv-finished"),
  newOne: $("iv-new"), share: $("iv-share"), sharing: $("iv-sharing"), shareUrl: $("share-url"),
  shareNote: $("iv-share-note"), unshare: $("iv-unshare"), copy: $("iv-copy"),
  drill: $("iv-drill"), progress: $("iv-progress"), progressText: $("iv-progress-text"),
  aim: $("iv-aim"), reading: $("iv-reading"), readingState: $("iv-reading-state"),
  replay: $("iv-replay"),
};
const handsFree = $("iv-hands-free");
let turnEndSeconds = 2.5; // TURN_END_SECONDS, from /healthz
const voice = recorder({
  button: $("iv-record"), time: $("iv-record-time"), level: $("iv-record-level"),
  box: iv.answer, panel: $("iv-delivery"), status: $("iv-record-status"),
  keep: $("iv-keep-recording"),
  targetSeconds: () => (session ? session.answerSeconds : 120),
  // Hands-free: a silence after speech ends the answer, and it is sent as it is.
  turnEnd: () => (handsFree.checked ? turnEndSeconds : 0),
  onTurnEnd: () => { if (handsFree.checked || cutIn) sendAnswer(); },
  countdown: $("iv-turn"),
  // The session knows the interview: the interviewer may cut the answer short.
  liveQuery: () => (session ? `&interview=${encodeURIComponent(session.id)}` : ""),
  onInterrupt: interrupted,
});
let cutIn = null; // why the interviewer cut the answer being recorded short

// The interviewer cuts in: said and shown, and the answer so far is the answer (sent
// once its text is final, with the interruption noted).
function interrupted(data) {
  // After "stop" the recording's text is the candidate's own ending: nothing to cut.
  if (cutIn || iv.box.hidden || !voice.recording()) return;
  cutIn = data.reason;
  item("interrupt", t("ivCutIn")).textContent = data.text;
  iv.status.textContent = data.text; // announced (aria-live)
  speak(data.text, { always: true });
  voice.stop();
}
const SPEAK_KEY = "ia_speak_questions";
let speech = null; // how questions are read aloud: "model", "browser" or "off" (healthz)
let session = null; // {id, url, answerSeconds, turn, total, main}
let askedAt = 0; // when the current question finished, for the timer
let ticking = null;
let reading = null; // the stream being read
const resumedAfterGone = new Set(); // streams found gone, each reloaded from the state once

export function showMode(interviewMode) {
  iv.interview.hidden = !interviewMode;
  iv.practice.hidden = interviewMode;
  iv.tabInterview.setAttribute("aria-selected", String(interviewMode));
  iv.tabPractice.setAttribute("aria-selected", String(!interviewMode));
}

function item(kind, label, extra) {
  const li = document.createElement("li");
  li.className = `turn ${kind}`;
  li.dataset.kind = kind;
  const who = document.createElement("strong");
  who.textContent = label;
  li.append(who);
  if (extra) {
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.dataset.testid = "iv-badge";
    badge.textContent = extra;
    li.append(badge);
  }
  const body = document.createElement("div");
  body.className = "markdown";
  li.append(body);
  iv.transcript.append(li);
  return body;
}

// Under each answer: the score, the verdict and the rubric's checklist, redrawn when the
// page's language changes.
const scored = [];

function drawScore({ p, list, analysis }) {
  p.textContent = `${t("score")} ${analysis.score}/5 · ${analysis.verdict || ""}`;
  list.replaceChildren(...checklist(analysis));
}

function scoreLine(body, analysis) {
  if (!analysis) return;
  const p = document.createElement("p");
  p.className = "verdict";
  const list = document.createElement("ul");
  list.className = "checklist";
  list.dataset.testid = "iv-checklist";
  const line = { p, list, analysis };
  drawScore(line);
  scored.push(line);
  body.parentElement.append(p, list);
}

export function applyLanguage() {
  for (const line of scored) if (line.p.isConnected) drawScore(line);
  if (session) showProgress();
}

function stopTimer() {
  if (ticking) clearInterval(ticking);
  ticking = null;
}

function startTimer() {
  stopTimer();
  askedAt = Date.now();
  const tick = () => {
    const left = session.answerSeconds - Math.round((Date.now() - askedAt) / 1000);
    iv.timer.textContent = left >= 0 ? t("ivLeft", { s: left }) : t("ivOver", { s: -left });
    iv.timer.classList.toggle("over", left < 0);
  };
  tick();
  ticking = setInterval(tick, 1000);
}

// Read a question aloud when the candidate asked for it: the model server's voice, else
// the browser's speechSynthesis, else a message (the text is always there). Resolves
// when the reading ends, so that the answer's countdown starts then, not while it reads.
let lastRead = "";
async function speak(text, { always = false } = {}) {
  if ((!iv.speak.checked && !always) || !text.trim()) return;
  if (!always) lastRead = text; // the replay button replays the question, not a cut-in
  iv.reading.hidden = false;
  iv.replay.hidden = true;
  iv.readingState.textContent = t("reading");
  const said = await say(text);
  iv.readingState.textContent = said ? "" : t("noVoice");
  iv.replay.hidden = !said;
}

// Chromium lists its voices a moment after the page loads (`voiceschanged`).
function hasVoice(synth) {
  if (typeof synth.getVoices !== "function" || synth.getVoices().length) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => resolve(synth.getVoices().length > 0);
    synth.addEventListener?.("voiceschanged", done, { once: true });
    setTimeout(done, 1000);
  });
}

function say(text) {
  return new Promise((resolve) => {
    const browser = async () => {
      const synth = window.speechSynthesis;
      if (!synth || !window.SpeechSynthesisUtterance || !(await hasVoice(synth))) return resolve(false);
      const utterance = new window.SpeechSynthesisUtterance(text);
      utterance.lang = texts.lang === "ko" ? "ko-KR" : "en-US";
      utterance.onend = () => resolve(true);
      utterance.onerror = () => resolve(false);
      // A browser that never says it ended must not hold the answer back for good.
      setTimeout(() => resolve(true), 2000 + 600 * text.split(/\s+/).length);
      synth.speak(utterance);
    };
    if (speech !== "model") return browser();
    fetch(`${BASE}/api/speech`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text, language: texts.lang }),
    }).then(async (response) => {
      if (!response.ok) return browser();
      const address = URL.createObjectURL(await response.blob());
      const player = new Audio(address);
      const over = (said) => { URL.revokeObjectURL(address); resolve(said); };
      player.onended = () => over(true);
      player.onerror = () => over(false);
      // A stalled or interrupted playback must not hold the answer back for good.
      setTimeout(() => over(true), 4000 + 600 * text.split(/\s+/).length);
      player.play().catch(() => over(false));
    }).catch(browser);
  });
}

function showProgress(aim) {
  iv.progress.hidden = false;
  iv.progressText.textContent = t("ivProgress", { n: Math.max(1, session.main), total: session.total });
  if (aim !== undefined) {
    iv.aim.hidden = !aim;
    iv.aim.textContent = aim || ""; // the aim says "Aim: …" itself
  }
}

// The report is in: the print view, sharing, a drill on the part it found weakest, and
// another interview.
function finished(report) {
  iv.status.textContent = "";
  iv.report.href = `${BASE}/interviews/${session.id}/report`;
  iv.finished.hidden = false;
  iv.report.hidden = false;
  iv.drill.replaceChildren();
  iv.drill.hidden = !(report && report.weakest);
  if (report && report.weakest) iv.drill.append(drillButton(report.weakest));
  iv.report.focus();
}

async function share() {
  const response = await fetch(`${session.url}/share`, { method: "POST" }).catch(() => null);
  const data = response ? await response.json().catch(() => null) : null;
  if (!response || !response.ok) {
    iv.status.textContent = response ? explain(response.status, data, null) : t("network");
    return;
  }
  iv.sharing.hidden = false;
  iv.shareUrl.value = new URL(data.url, location.href).href;
  const until = new Date(data.expires_at).toLocaleDateString(texts.lang === "ko" ? "ko-KR" : "en-GB",
    { dateStyle: "long" });
  iv.shareNote.textContent = t("ivShared", { when: until });
  iv.unshare.disabled = false;
  iv.shareUrl.select();
}

async function unshare() {
  const response = await fetch(`${session.url}/share`, { method: "DELETE" }).catch(() => null);
  if (!response || !response.ok) {
    iv.status.textContent = response ? explain(response.status, null, null) : t("network");
    return;
  }
  iv.shareNote.textContent = t("ivUnshared");
  iv.unshare.disabled = true;
}

// Back to the setup form for another interview (the finished one stays in history).
function another() {
  if (reading) reading.close();
  reading = null;
  stopTimer();
  session = null;
  history.replaceState(null, "", location.pathname + location.search);
  iv.transcript.replaceChildren();
  scored.length = 0;
  for (const el of [iv.session, iv.finished, iv.report, iv.sharing, iv.drill, iv.progress, iv.reading]) {
    el.hidden = true;
  }
  iv.setup.hidden = false;
  iv.status.textContent = "";
  iv.role.focus();
}

function awaitAnswer() {
  cutIn = null;
  iv.box.hidden = false;
  iv.answer.value = "";
  voice.reset();
  $("iv-turn").textContent = "";
  iv.answer.focus();
  iv.status.textContent = "";
  startTimer();
  if (handsFree.checked) voice.start(); // recording starts when the question is read
}

function busy(on) {
  iv.transcript.setAttribute("aria-busy", String(on));
}

// Read one stored stream into `body`; `done` gets the final event's payload. The
// current stream is the one `reading`; past ones (replayed on a reload) read alongside.
function play(url, body, done, current = true) {
  if (current && reading) reading.close();
  let text = "";
  busy(true);
  const stream = readStream(url, {
    text(delta) {
      text += delta;
      renderInto(body, text);
    },
    done(data) {
      busy(false);
      done(data);
    },
    failed(data) {
      busy(false);
      iv.status.textContent = explainEvent(data);
    },
    gone() {
      busy(false);
      iv.status.textContent = t("lost");
      // Expired or already ended: what it said is kept in the interview's state.
      if (session && !resumedAfterGone.has(url)) {
        resumedAfterGone.add(url);
        resume(session.id);
      }
    },
  });
  if (current) reading = stream;
}

function follow(next) {
  if (next.kind === "report") {
    const body = item("report", t("ivReport"));
    iv.status.textContent = t("ivWait");
    play(next.stream, body, (done) => finished((done && done.report) || null));
    return;
  }
  session.turn += 1; // the turn the next answer answers: its index in the interview's turns
  const followUp = next.kind === "follow_up";
  if (!followUp) session.main += 1;
  showProgress(next.aim);
  // The label says "Follow-up" already: the badge gives its reason only (it was doubled).
  const body = item(next.kind, followUp ? t("ivFollowUp") : t("ivQuestion"),
    followUp && next.reason ? next.reason : null);
  iv.status.textContent = t("ivWait");
  play(next.stream, body, async () => {
    await speak(body.textContent.trim());
    awaitAnswer(); // the countdown starts once the question has been read
  });
}

let keeping = null; // the recording to keep with the answer's attempt

function spokenFigures() {
  const { delivery, audio } = voice.take();
  keeping = audio;
  return delivery ? { delivery } : {};
}

async function sendAnswer() {
  const answer = iv.answer.value.trim();
  if (!answer || iv.box.hidden) return;
  if (voice.recording()) { // its text is not final yet: stop first, then send
    iv.status.textContent = t("stopFirst");
    return;
  }
  const seconds = Math.round((Date.now() - askedAt) / 1000);
  stopTimer();
  iv.box.hidden = true;
  const response = await fetch(`${session.url}/answers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ answer, seconds, turn: session.turn, ...spokenFigures(),
      ...(cutIn ? { interrupted: cutIn } : {}) }),
  }).catch(() => null);
  const data = response ? await response.json().catch(() => null) : null;
  if (!response || !response.ok) {
    iv.box.hidden = false;
    iv.status.textContent = response
      ? explain(response.status, data, response.headers.get("Retry-After")) : t("network");
    return;
  }
  answered(answer, cutIn);
  cutIn = null;
  coach(data.feedback);
}

// The candidate's answer in the transcript, marked when the interviewer cut it short.
function answered(text, interruptedBy) {
  const body = item("answer", t("ivYou"), interruptedBy ? t("ivInterrupted") : null);
  body.textContent = text;
}

function coach(url) {
  const body = item("feedback", t("ivFeedback"));
  iv.status.textContent = t("ivCoaching");
  play(url, body, (done) => {
    scoreLine(body, done.analysis);
    keepRecording(done.attempt_id, keeping);
    keeping = null;
    if (done.next) follow(done.next);
  });
}

async function begin(event, focus = null) {
  if (event) event.preventDefault();
  const body = {
    language: document.documentElement.lang === "ko" ? "ko" : "en",
    questions: Number(iv.questions.value),
    answer_seconds: Number(iv.seconds.value),
    follow_ups: iv.follow.checked,
    interrupt: $("iv-interrupt").checked,
  };
  if (focus) body.focus = focus;
  if (iv.role.value.trim()) body.role = iv.role.value.trim();
  if (iv.posting.value.trim()) body.job_posting = iv.posting.value.trim();
  if (iv.resume.value.trim()) body.resume = iv.resume.value.trim();
  const response = await fetch(`${BASE}/api/interviews`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }).catch(() => null);
  const data = response ? await response.json().catch(() => null) : null;
  if (!response || !response.ok) {
    iv.status.textContent = response ? explain(response.status, data, null) : t("network");
    return;
  }
  session = { id: data.id, url: data.url, answerSeconds: body.answer_seconds, turn: -1,
    total: body.questions, main: 0 };
  history.replaceState(null, "", `#interview=${data.id}`);
  for (const el of [iv.setup, iv.finished, iv.sharing, iv.drill]) el.hidden = true;
  iv.session.hidden = false;
  iv.transcript.replaceChildren();
  follow(data.next);
}

// A drill on one part, from wherever a weak part is named: a short mock interview aimed
// at it (its aim shown before each answer).
export function startDrill(part) {
  if (session && !iv.finished.hidden) another();
  if (session) { // an interview is running: finish it first, and say so
    showMode(true);
    iv.status.textContent = t("drillLater");
    return;
  }
  showMode(true);
  iv.setup.hidden = false;
  iv.questions.value = "2";
  begin(null, part);
}

// A reload in the middle: rebuild what was said, then resume the current stream.
async function resume(id) {
  const response = await fetch(`${BASE}/api/interviews/${id}`).catch(() => null);
  if (!response || !response.ok) return;
  const state = await response.json();
  showMode(true);
  session = {
    id, url: `${BASE}/api/interviews/${id}`, answerSeconds: state.setup.answer_seconds,
    turn: state.turns.length - 1, total: state.setup.questions,
    main: state.turns.filter((x) => x.kind === "question").length,
  };
  showProgress(state.turns.length ? state.turns[state.turns.length - 1].aim : null);
  iv.setup.hidden = true;
  iv.session.hidden = false;
  iv.transcript.replaceChildren();
  const turns = state.turns;
  turns.forEach((turn, i) => {
    const isCurrent = state.current && turn.stream === state.current.stream;
    const label = turn.kind === "follow_up" ? t("ivFollowUp") : t("ivQuestion");
    const reason = turn.kind === "follow_up" && turn.reason ? turn.reason : null;
    if (isCurrent && state.status === "asking") {
      const body = item(turn.kind, label, reason);
      play(turn.stream, body, awaitAnswer);
      return;
    }
    renderInto(item(turn.kind, label, reason), turn.question || "");
    if (turn.answer) answered(turn.answer, turn.interrupted);
    if (turn.feedback && state.current && state.current.stream === turn.feedback && state.status === "coaching") {
      coach(turn.feedback);
    } else if (turn.feedback) {
      const body = item("feedback", t("ivFeedback"));
      if (turn.analysis) scoreLine(body, turn.analysis);
      play(turn.feedback, body, (done) => {
        if (!turn.analysis) scoreLine(body, done.analysis);
      }, false);
    }
    if (i === turns.length - 1 && state.status === "awaiting_answer") awaitAnswer();
  });
  if (state.status === "finished" && state.current) {
    session.turn = turns.length; // nothing more to answer
    follow(state.current);
  }
}

export function start() {
  iv.speak.checked = localStorage.getItem(SPEAK_KEY) === "1";
  iv.speak.addEventListener("change", () => localStorage.setItem(SPEAK_KEY, iv.speak.checked ? "1" : "0"));
  fetch(`${BASE}/healthz`).then((r) => r.json()).then((h) => {
    speech = h.tts;
    turnEndSeconds = h.turn_end_seconds || turnEndSeconds;
  }).catch(() => {});
  iv.tabPractice.addEventListener("click", () => showMode(false));
  iv.tabInterview.addEventListener("click", () => showMode(true));
  iv.setup.addEventListener("submit", (event) => begin(event));
  iv.newOne.addEventListener("click", another);
  iv.share.addEventListener("click", share);
  iv.unshare.addEventListener("click", unshare);
  iv.copy.addEventListener("click", () => {
    iv.shareUrl.select();
    (navigator.clipboard ? navigator.clipboard.writeText(iv.shareUrl.value) : Promise.reject())
      .then(() => { iv.shareNote.textContent = t("ivCopied"); }).catch(() => {});
  });
  iv.replay.addEventListener("click", () => { if (lastRead) speak(lastRead); });
  iv.send.addEventListener("click", sendAnswer);
  iv.answer.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      sendAnswer();
    }
  });
  const resumeId = new URLSearchParams(location.hash.slice(1)).get("interview");
  if (resumeId) resume(resumeId);
}
