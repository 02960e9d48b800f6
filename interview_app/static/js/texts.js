// The page's words in each language, and the one `t()` that picks them.
// Every view imports from here: one table per language, one current language.

export const TEXT = {
  ko: {
    reviewTitle: "다음에 연습할 것", reviewEmpty: "지금 다시 연습할 질문이 없습니다.",
    handsFree: "손 안 대고 답하기 (읽은 뒤 바로 녹음, 말을 멈추면 제출)", turnEnding: "{s}초 뒤 제출합니다… (말하거나 키를 누르면 취소)",
    stopFirst: "먼저 녹음을 끝내세요. 받아 적은 글이 확정되면 보낼 수 있습니다.", drillLater: "진행 중인 면접을 마친 뒤에 집중 연습을 시작할 수 있습니다.",
    reviewWeakTitle: "자주 빠지는 부분:", drill: "{part} 집중 연습", drillHint: "이 부분만 겨냥한 짧은 모의 면접을 시작합니다",
    ivNew: "새 면접 시작", ivShare: "보고서 공유 링크 만들기", ivUnshare: "공유 링크 취소",
    ivShareUrl: "공유 링크", ivShared: "이 링크를 가진 사람은 {when}까지 보고서를 볼 수 있습니다.",
    ivUnshared: "공유 링크를 취소했습니다. 이제 아무도 열 수 없습니다.", ivCopy: "링크 복사", ivCopied: "복사했습니다.",
    ivAim: "이번 연습의 목표", ivProgress: "질문 {n} / {total}",
    reading: "질문을 읽어 주는 중…", replay: "다시 듣기", noVoice: "이 브라우저에는 읽어 줄 목소리가 없습니다. 화면의 질문을 읽어 주세요.",
    deletedAll: "연습 기록을 모두 삭제했습니다.", feedbackStarted: "피드백을 받는 중입니다. 아래에 나타납니다.",
    transcribingProgress: "받아 적는 중… {s}초 / 예상 약 {expected}초",
    previousAnswer: "지난번 답변", newAnswer: "이번 답변",
    otherLanguage: "지난번 답변은 다른 언어였습니다. 같은 언어의 답변끼리만 비교합니다.",
    reviewNext: "다음 복습: {when}", reviewWeak: "자주 빠지는 부분: {parts}",
    part_situation: "상황", part_task: "과제", part_action: "본인의 행동", part_result: "결과",
    part_quantified_result: "결과의 숫자", part_first_person: "'제가'로 말하기",
    part_conclusion_first: "결론 먼저",
    record: "녹음", stopRecording: "녹음 끝내기", elapsed: "{s}초", recording: "녹음 중… 다시 누르면 끝납니다.",
    transcribing: "받아 적는 중…", transcribed: "받아 적었습니다. 고친 뒤 보내세요.",
    noSpeech: "말소리가 들리지 않았습니다. 다시 녹음해 보세요.",
    noMicrophone: "마이크를 쓸 수 없습니다. 브라우저의 마이크 권한을 확인하세요.",
    audioPrivacy: "녹음은 받아 적는 데만 쓰고, '녹음 보관'을 고른 답변이 아니면 저장하지 않습니다. 글과 말하기 수치만 남습니다.",
    keepRecording: "이번 답변의 녹음 보관",
    deliveryTitle: "말하기", dPace: "속도: {v} {unit} ({verdict})", dFirst: "첫 단어까지 {s}초",
    dPauses: "긴 멈춤: {list}", dPause: "{start}초 지점 {seconds}초", dNoPauses: "긴 멈춤 없음",
    dFillers: "군말 {n}개: {words}", dNoFillers: "군말 없음", dSpeaking: "말한 시간 {s}초 / 목표 {target}초",
    pace_slow: "느림", pace_good: "적당함", pace_fast: "빠름",
    perMinuteKo: "음절/분", perMinuteEn: "단어/분", speakQuestions: "질문 읽어 주기",
    paceTitle: "말하기 속도", paceWeek: "{week}: {rate} {unit}",
    title: "면접 코치", offline: "오프라인 모드", language: "언어", pick: "질문 고르기",
    pickNone: "직접 입력", question: "질문", answer: "내 답변",
    questionHint: "면접 질문을 입력하거나 위에서 고르세요",
    answerHint: "피드백을 받을 내 답변을 입력하세요",
    askAnswer: "모범 답변", askFeedback: "피드백 받기", stop: "멈추기", score: "점수",
    idle: "질문을 고르고 버튼을 누르세요.", connecting: "연결하는 중…", writing: "작성하는 중…",
    reconnecting: "연결이 끊겨 다시 연결하는 중… (놓친 부분부터 이어서 받습니다)",
    done: "완료", stopped: "멈췄습니다.",
    needQuestion: "먼저 질문을 입력하세요.", needAnswer: "피드백을 받으려면 답변을 입력하세요.",
    network: "서버에 연결할 수 없습니다. 인터넷 연결을 확인하고 다시 시도하세요.",
    busy: "AI 서비스가 붐빕니다. {s}초 뒤에 다시 시도하세요.",
    limited: "요청이 너무 많습니다. {s}초 뒤에 다시 시도하세요.",
    down: "AI 서비스에 지금 연결할 수 없습니다. 잠시 뒤 다시 시도하고, 계속되면 운영자에게 알려 주세요.",
    slow: "AI가 제때 답하지 않았습니다. 다시 시도하세요.",
    invalid: "입력을 확인하세요: {m}",
    cut: "답변이 중간에 끊겼습니다. 다시 시도하세요.",
    restarting: "서버가 재시작 중입니다. 잠시 뒤 다시 시도하세요.",
    lost: "스트림을 더 이상 받을 수 없습니다. 다시 시도하세요.",
    failed: "문제가 생겼습니다: {m}",
    ours: "서버 쪽 문제로 멈췄습니다. 잠시 뒤 다시 시도하세요.",
    star: { situation: "상황 (S)", task: "과제 (T)", action: "행동 (A)", result: "결과 (R)" },
    firstPerson: "'제가'로 말하기", quantified: "숫자로 된 결과", fillers: "군말 {n}개",
    words: "{n}어절", conclusionFirst: "결론 먼저 (두괄식)",
    adviceOnly: "점수에는 들어가지 않는 조언입니다.",
    notStar: "경험을 묻는 질문이 아니어서 STAR(상황·과제·행동·결과)는 채점하지 않습니다.",
    byModel: "모델이 채점", byRules: "규칙으로 채점", showEvidence: "답변에서 보기",
    how: "채점 방식",
    modes: "모드", modePractice: "질문 연습", modeInterview: "모의 면접", ivRole: "지원 직무",
    ivPosting: "채용 공고 (선택)", ivResume: "이력서 (선택)", ivQuestions: "질문 수",
    ivSeconds: "답변 시간(초)", ivFollow: "꼬리질문", ivStart: "면접 시작",
    ivAnswer: "내 답변", ivSend: "답변 제출 (Ctrl+Enter)", ivReportLink: "인쇄용 보고서",
    ivQuestion: "면접관", ivFollowUp: "꼬리질문", ivFeedback: "코칭", ivYou: "나",
    ivInterrupt: "면접관이 끼어들 수 있음", ivCutIn: "면접관 (끼어듦)", ivInterrupted: "중간에 끊긴 답변",
    ivReport: "면접 결과", ivLeft: "남은 시간 {s}초", ivOver: "{s}초 초과",
    ivBecause: "꼬리질문: {r}", ivWait: "면접관이 말하는 중…", ivCoaching: "답변을 코칭하는 중…",
    history: "연습 기록", historyEmpty: "아직 기록이 없습니다. 피드백을 받으면 여기에 쌓입니다.",
    exportJson: "JSON 내보내기", exportMd: "마크다운 내보내기", deleteAll: "모두 삭제",
    deleteOne: "삭제", again: "다시 연습하기", compareTitle: "지난번과 비교",
    confirmDeleteAll: "연습 기록을 모두 삭제할까요? 되돌릴 수 없습니다.",
    notSaved: "완료 (이번 연습은 기록에 저장되지 않았습니다)",
    weakest: "가장 자주 빠지는 부분: {part}", scoreChange: "점수 {a} → {b}",
    nowPresent: "{part} 이제 있음", nowMissing: "{part} 빠짐", noChange: "체크리스트 변화 없음",
    answerKind: "모범 답변", feedbackKind: "피드백", chartTitle: "분야별 평균 점수",
    categories: { behavioural: "경험/행동", motivation: "지원 동기", technical: "기술", culture: "조직 적합성", custom: "직접 입력", interview: "모의 면접 질문" },
    anchorsStory: "경험 질문(STAR)", anchorsDirect: "그 밖의 질문(지원 동기, 장단점, 기술)",
    howText: "경험 질문은 STAR로 봅니다: 상황과 과제는 짧게(약 20%), 제가 한 행동과 결과에 " +
      "무게를 둡니다(약 80%). 본인의 행동이 없거나 너무 짧은 답변은 2점을 넘지 않습니다. " +
      "결과는 성과를 재는 숫자일 때만 '숫자로 된 결과'입니다(팀 인원, 연도는 아님). '저희'보다 " +
      "'제가', 결론 먼저(두괄식), 군말, 길이도 봅니다. 체크된 항목을 누르면 답변의 근거 문장이 표시됩니다.",
  },
  en: {
    reviewTitle: "Practise next", reviewEmpty: "Nothing is due right now.",
    handsFree: "Hands-free (record after the question, send when I stop)", turnEnding: "Sending in {s} s… (speak or press a key to go on)",
    stopFirst: "Stop recording first: the answer can be sent once its text is final.", drillLater: "Finish the interview under way, then start the drill.",
    reviewWeakTitle: "Keeps going missing:", drill: "Drill: {part}", drillHint: "Start a short mock interview aimed at this part",
    ivNew: "Start another interview", ivShare: "Share the report", ivUnshare: "Revoke the link",
    ivShareUrl: "Link to the report", ivShared: "Anyone with this link can read the report until {when}.",
    ivUnshared: "The link is revoked: nobody can open it now.", ivCopy: "Copy link", ivCopied: "Copied.",
    ivAim: "Aim of this drill", ivProgress: "Question {n} of {total}",
    reading: "Reading the question aloud…", replay: "Read it again", noVoice: "This browser has no voice to read with: read the question on screen.",
    deletedAll: "Your practice history was deleted.", feedbackStarted: "Your feedback has started: it appears below.",
    transcribingProgress: "Transcribing… {s} s of about {expected} s",
    previousAnswer: "Last time", newAnswer: "This time",
    otherLanguage: "Last time you answered in the other language; only answers in the same language are compared.",
    reviewNext: "Next review: {when}", reviewWeak: "Keeps going missing: {parts}",
    part_situation: "Situation", part_task: "Task", part_action: "Your own action",
    part_result: "Result", part_quantified_result: "A number for the result",
    part_first_person: "Speaking as \"I\"", part_conclusion_first: "The point first",
    record: "Record", stopRecording: "Stop recording", elapsed: "{s} s", recording: "Recording… press again to stop.",
    transcribing: "Transcribing…", transcribed: "Transcribed. Edit it, then send.",
    noSpeech: "No speech was heard. Try recording again.",
    noMicrophone: "No microphone: check the browser's microphone permission.",
    audioPrivacy: "Your recording is used to transcribe it and is not stored unless you tick \"keep\" for this answer; the text and the delivery figures are kept.",
    keepRecording: "Keep this recording",
    deliveryTitle: "How you said it", dPace: "Pace: {v} {unit} ({verdict})", dFirst: "First word after {s} s",
    dPauses: "Long pauses: {list}", dPause: "{seconds} s at {start} s", dNoPauses: "No long pauses",
    dFillers: "{n} {fillerWord}: {words}", dNoFillers: "No fillers", dSpeaking: "Spoke {s} s of a {target} s target",
    pace_slow: "slow", pace_good: "good", pace_fast: "fast",
    perMinuteKo: "syllables/min", perMinuteEn: "words/min", speakQuestions: "Read questions aloud",
    paceTitle: "Speaking pace", paceWeek: "{week}: {rate} {unit}",
    title: "Interview coach", offline: "Offline mode", language: "Language",
    pick: "Pick a question", pickNone: "Type my own", question: "Question", answer: "My answer",
    questionHint: "Type an interview question or pick one above",
    answerHint: "Type your answer to get feedback on it",
    askAnswer: "Model answer", askFeedback: "Feedback", stop: "Stop", score: "Score",
    idle: "Pick a question and press a button.", connecting: "Connecting…", writing: "Writing…",
    reconnecting: "Connection lost, reconnecting… (you will get the rest from where it broke)",
    done: "Done", stopped: "Stopped.",
    needQuestion: "Type a question first.", needAnswer: "Type your answer to get feedback.",
    network: "Cannot reach the server. Check your connection and try again.",
    busy: "The AI service is busy. Try again in {s} seconds.",
    limited: "Too many requests. Try again in {s} seconds.",
    down: "The AI service is unavailable right now. Try again later; if it persists, tell the site owner.",
    slow: "The AI took too long to answer. Try again.",
    invalid: "Please check your input: {m}",
    cut: "The answer was cut off. Try again.",
    restarting: "The server is restarting. Try again in a moment.",
    lost: "The stream is no longer available. Try again.",
    failed: "Something went wrong: {m}",
    ours: "It stopped because of a problem on our side. Try again in a moment.",
    star: { situation: "Situation", task: "Task", action: "Action", result: "Result" },
    firstPerson: "Speaks in the first person", quantified: "Quantified result",
    fillers: "{n} {fillerWord}", words: "{n} {wordWord}", conclusionFirst: "Conclusion first",
    adviceOnly: "Advice: the score does not count this.",
    notStar: "This question does not ask for a past experience, so STAR is not scored.",
    byModel: "scored by the model", byRules: "scored by rules", showEvidence: "show in my answer",
    how: "How this is scored",
    modes: "Modes", modePractice: "Practice a question", modeInterview: "Mock interview", ivRole: "Role",
    ivPosting: "Job posting (optional)", ivResume: "Resume (optional)", ivQuestions: "Questions",
    ivSeconds: "Seconds per answer", ivFollow: "Follow-up questions", ivStart: "Start the interview",
    ivAnswer: "Your answer", ivSend: "Send answer (Ctrl+Enter)", ivReportLink: "Print view of the report",
    ivQuestion: "Interviewer", ivFollowUp: "Follow-up", ivFeedback: "Coaching", ivYou: "You",
    ivInterrupt: "The interviewer may cut in", ivCutIn: "Interviewer (cutting in)", ivInterrupted: "cut short",
    ivReport: "Your report", ivLeft: "{s} s left", ivOver: "{s} s over",
    ivBecause: "follow-up: {r}", ivWait: "The interviewer is speaking…", ivCoaching: "Coaching your answer…",
    history: "Practice history", historyEmpty: "No attempts yet. Your feedback will be kept here.",
    exportJson: "Export JSON", exportMd: "Export Markdown", deleteAll: "Delete all",
    deleteOne: "Delete", again: "Practise again", compareTitle: "Compared with last time",
    confirmDeleteAll: "Delete your whole practice history? This cannot be undone.",
    notSaved: "Done (this attempt was not saved to your history)",
    weakest: "Your weakest part: {part}", scoreChange: "Score {a} → {b}",
    nowPresent: "{part} now present", nowMissing: "{part} now missing", noChange: "Checklist unchanged",
    answerKind: "Model answer", feedbackKind: "Feedback", chartTitle: "Mean score by category",
    categories: { behavioural: "Behavioural", motivation: "Motivation", technical: "Technical", culture: "Culture fit", custom: "Your own", interview: "Interview questions" },
    anchorsStory: "Stories (a past experience)", anchorsDirect: "Other questions (motivation, strengths, technical)",
    howText: "Stories are read with STAR: situation and task briefly (about 20%), most weight " +
      "on what you did and what changed (about 80%). An answer with no action of your own, " +
      "or a very short one, scores at most 2. A result counts as quantified only when a " +
      "number measures the outcome (not team size or a year). Speaking as \"I\", leading " +
      "with the conclusion, fillers and length count too. Click a ticked part to see the " +
      "words in your answer that earned it.",
  },
};

// The language chosen once is kept across reloads (localStorage), else the browser's.
const LANG_KEY = "ia_lang";
const kept = (() => { try { return localStorage.getItem(LANG_KEY); } catch { return null; } })();
export const state = {
  lang: kept === "ko" || kept === "en" ? kept
    : (navigator.language || "").toLowerCase().startsWith("ko") ? "ko" : "en",
};

export function setLanguage(lang) {
  state.lang = lang;
  try { localStorage.setItem(LANG_KEY, lang); } catch { /* private mode: this page only */ }
}

// English nouns by count ("1 filler", "2 fillers"), by the language's plural rules.
const NOUNS = { fillerWord: ["filler", "fillers"], wordWord: ["word", "words"] };
function plurals(vars) {
  if (typeof vars.n !== "number" || state.lang !== "en") return vars;
  const one = new Intl.PluralRules("en").select(vars.n) === "one";
  const nouns = Object.fromEntries(Object.entries(NOUNS).map(([k, [a, b]]) => [k, one ? a : b]));
  return { ...nouns, ...vars };
}

export const t = (key, vars = {}) => {
  const all = plurals(vars);
  return TEXT[state.lang][key].replace(/\{(\w+)\}/g, (_, name) => String(all[name] ?? ""));
};

export const partName = (part) => TEXT[state.lang].star[part] || part;

// A refusal before the stream (an HTTP status and our JSON error), in words.
export function explain(status, body, retryAfter) {
  const code = body && body.error ? body.error.code : "";
  const message = body && body.error ? body.error.message : `HTTP ${status}`;
  const s = retryAfter || "10";
  if (status === 429) return t("limited", { s });
  if (status === 503) return t("busy", { s });
  if (status === 504) return t("slow");
  if (status === 502) return t("down");
  if (status >= 400 && status < 500) return t("invalid", { m: message });
  return t("failed", { m: code || message });
}

// An `error` event that ended a stream, in words.
export function explainEvent(data) {
  if (data.code === "server_restarting") return t("restarting");
  // Refused at a full worker after it began: in the page's words, not the server's English.
  if (data.code === "server_busy") return t("busy", { s: data.retry_after || "2" });
  if (data.code && data.code.startsWith("upstream")) return t("cut");
  if (data.code === "stream_abandoned" || data.code === "stream_lost") return t("lost");
  if (data.code === "cancelled") return t("stopped");
  // Ours, not the candidate's: said in the page's language, not the server's English.
  if (["internal", "store_unavailable", "history_unavailable"].includes(data.code)) return t("ours");
  return t("failed", { m: data.message || data.code });
}

// Every element marked with data-i18n (text) or data-i18n-placeholder, in the language.
export function applyTexts() {
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nLabel));
  }
}
