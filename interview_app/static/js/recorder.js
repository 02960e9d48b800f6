// Answering out loud: a record button (a toggle; Space works on it as on any button),
// elapsed time and a level meter while recording, the transcript in the answer box
// while the candidate speaks (a live transcription: 16 kHz PCM from an AudioWorklet,
// posted in quarter-second pieces; where the server offers none, the recording is
// transcribed once it stops), and a delivery panel: pace with its verdict, time to the
// first word, long pauses, fillers, speaking time against the target. The audio is
// never stored unless "keep" is ticked; the text and the figures travel on.
// Hands-free (`onTurnEnd`): after speech, a silence of `turnEnd()` seconds counts down
// on screen and ends the answer; speaking or a key cancels the countdown.
// In a mock interview the session knows the interview (`liveQuery`): when the answer runs
// past its budget, or long with no result, the server's `interrupt` event reaches
// `onInterrupt`, which stops the recording (its text so far is the answer).
import { BASE } from "./page.js";
import { readPosted, readStream } from "./sse.js";
import { explain, explainEvent, state, t } from "./texts.js";

export function recorder({ button, time, level, box, panel, status, keep, targetSeconds,
  turnEnd = () => 0, onTurnEnd = null, countdown = null, liveQuery = () => "",
  onInterrupt = null }) {
  let media = null;
  let live = null; // the live transcription: {audio, events, seq, buffer, context, done}
  let chunks = [];
  let started = 0;
  let ticking = null;
  let audio = null;
  let delivery = null;
  let recorded = null; // the last recording, kept only if its candidate opts in

  const setStatus = (message) => { status.textContent = message; };
  const label = button.querySelector("span") || button;
  let waiting = null; // the transcription's progress ticker
  const stopWaiting = () => { if (waiting) clearInterval(waiting); waiting = null; };

  function showDelivery(d) {
    panel.replaceChildren();
    panel.hidden = !d;
    if (!d) return;
    const verdict = t(`pace_${d.rate.verdict}`);
    const unit = d.rate.unit === "syllables_per_minute" ? t("perMinuteKo") : t("perMinuteEn");
    const lines = [
      t("dPace", { v: d.rate.value, unit, verdict }),
      t("dFirst", { s: d.time_to_first_word_seconds }),
      d.long_pauses.length
        ? t("dPauses", { list: d.long_pauses.map((p) => t("dPause", p)).join(", ") })
        : t("dNoPauses"),
      d.filler_words ? t("dFillers", { n: d.filler_words, words: d.fillers.join(", ") }) : t("dNoFillers"),
      t("dSpeaking", { s: Math.round(d.speaking_seconds), target: targetSeconds() }),
    ];
    const title = document.createElement("h2");
    title.textContent = t("deliveryTitle");
    const list = document.createElement("ul");
    for (const line of lines) {
      const li = document.createElement("li");
      li.textContent = line;
      list.append(li);
    }
    panel.append(title, list);
  }

  // While a recording is transcribed (Korean took up to half a minute here), the time
  // so far against what such a recording usually takes, so that something moves.
  function showWaiting(seconds) {
    const expected = Math.max(2, Math.round(seconds * (state.lang === "ko" ? 0.8 : 0.4)));
    const since = Date.now();
    stopWaiting();
    const tick = () => setStatus(t("transcribingProgress", { s: Math.round((Date.now() - since) / 1000), expected }));
    tick();
    waiting = setInterval(tick, 1000);
  }

  // The whole recording transcribed once; true when text came back.
  async function transcribe(blob, seconds) {
    recorded = blob;
    showWaiting(seconds);
    box.value = "";
    let ok = false;
    try {
      const kind = (blob.type || "audio/webm").split(";")[0];
      const response = await fetch(`${BASE}/api/transcriptions?language=${state.lang}`, {
        method: "POST", headers: { "Content-Type": kind }, body: blob,
      }).catch(() => null);
      if (!response || !response.ok) {
        stopWaiting();
        const data = response ? await response.json().catch(() => null) : null;
        setStatus(response ? explain(response.status, data, response.headers.get("Retry-After")) : t("network"));
        return false;
      }
      let ended = false;
      await readPosted(response, {
        text(delta) { box.value += delta; },
        done(data) {
          ended = true;
          stopWaiting();
          delivery = data.delivery;
          showDelivery(delivery);
          setStatus(data.no_speech ? t("noSpeech") : t("transcribed"));
          ok = !data.no_speech;
          box.focus();
        },
        failed(data) { ended = true; stopWaiting(); setStatus(explainEvent(data)); },
      });
      if (!ended) setStatus(t("network"));
    } catch {
      setStatus(t("network"));
    } finally {
      stopWaiting();
    }
    return ok;
  }

  // A live transcription of `stream`, or null where the server has none for us (or the
  // browser cannot record at 16 kHz: the recording is then transcribed once it stops).
  async function startLive(stream) {
    const created = await fetch(`${BASE}/api/transcriptions/live?language=${state.lang}${liveQuery()}`,
      { method: "POST" }).catch(() => null);
    if (!created || created.status !== 201) return null;
    const session = await created.json();
    let context = null;
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      context = new Context({ sampleRate: 16000 });
      await context.audioWorklet.addModule(new URL("./pcm-worklet.js", import.meta.url));
      const tap = new AudioWorkletNode(context, "pcm-tap");
      context.createMediaStreamSource(stream).connect(tap);
      if (context.state === "suspended") await context.resume();
      const run = { ...session, seq: 0, buffer: [], samples: 0, context, lost: false };
      run.finished = new Promise((resolve) => {
        readStream(session.events, {
          text() {},
          partial(data) { box.value = data.text; },
          interrupt(data) { if (onInterrupt) onInterrupt(data); },
          done: resolve,
          failed(data) { resolve({ failed: data }); },
          gone() { resolve({ failed: { code: "stream_abandoned" } }); },
        });
      });
      tap.port.onmessage = (e) => {
        run.buffer.push(e.data);
        run.samples += e.data.length;
        if (run.samples >= 4000) send(run, false);
      };
      return run;
    } catch {
      // The session is given back at once (its slot), not left to its idle timeout.
      fetch(session.events, { method: "DELETE" }).catch(() => {});
      if (context) context.close().catch(() => {});
      return null;
    }
  }

  // The samples gathered so far as one audio/L16 piece (little-endian 16-bit).
  function send(run, end) {
    const samples = new Int16Array(run.samples);
    let at = 0;
    for (const frame of run.buffer) {
      for (const x of frame) samples[at++] = Math.max(-32768, Math.min(32767, Math.round(x * 32767)));
    }
    run.buffer = [];
    run.samples = 0;
    const seq = run.seq++;
    const post = () => fetch(`${run.audio}?seq=${seq}${end ? "&end=1" : ""}`, {
      method: "POST", headers: { "Content-Type": "audio/L16;rate=16000" }, body: samples.buffer,
    }).then((r) => r.ok);
    // Once more on a refusal or a network blip; a piece still lost sends the whole
    // recording to the one-shot transcription when it ends (nothing is lost).
    return post().catch(() => false).then((ok) => ok || post().catch(() => false))
      .then((ok) => { if (!ok) run.lost = true; });
  }

  async function finishLive(run, blob, seconds) {
    await send(run, true);
    run.context.close().catch(() => {});
    const done = run.lost ? { failed: true } : await run.finished;
    if (done.failed) {
      // The live transcription failed or lost a piece: the recording, transcribed once.
      if (run.lost) fetch(run.events, { method: "DELETE" }).catch(() => {});
      if (await transcribe(blob, seconds) && onTurnEnd) onTurnEnd();
      return;
    }
    box.value = done.text;
    delivery = done.delivery;
    showDelivery(delivery);
    setStatus(done.no_speech ? t("noSpeech") : t("transcribed"));
    box.focus();
    if (onTurnEnd && !done.no_speech) onTurnEnd(); // only after the final text
  }

  // Hands-free: after speech, a silence of `turnEnd()` seconds ends the answer; the
  // countdown is shown, and speaking again (or a key) cancels it.
  let heardSpeech = false;
  let quietSince = 0;
  function watchTurn(peak) {
    const seconds = turnEnd();
    if (!seconds || !onTurnEnd || !media) return;
    const now = Date.now();
    if (peak > 0.05) {
      heardSpeech = true;
      quietSince = 0;
      if (countdown) countdown.textContent = "";
      return;
    }
    if (!heardSpeech) return;
    quietSince = quietSince || now;
    const left = seconds - (now - quietSince) / 1000;
    if (countdown) countdown.textContent = left > 0 ? t("turnEnding", { s: Math.ceil(left) }) : "";
    if (left <= 0) {
      heardSpeech = false;
      stop();
    }
  }

  function meter(stream) {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = new Context();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 512;
    audio.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const draw = () => {
      if (!media) return;
      analyser.getFloatTimeDomainData(samples);
      let peak = 0;
      for (const s of samples) peak = Math.max(peak, Math.abs(s));
      level.value = Math.min(1, peak * 2);
      watchTurn(peak);
      requestAnimationFrame(draw);
    };
    draw();
  }

  let starting = false;
  async function start() {
    if (starting || media) return; // one recording at a time (a click during the prompt)
    starting = true;
    try {
      await begin();
    } finally {
      starting = false;
    }
  }

  async function begin() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      setStatus(t("noMicrophone"));
      return;
    }
    const type = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "";
    media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    chunks = [];
    media.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
    live = await startLive(stream).catch(() => null);
    const thisLive = live;
    media.onstop = () => {
      stream.getTracks().forEach((track) => track.stop());
      const blob = new Blob(chunks, { type: media ? media.mimeType : type });
      const seconds = (Date.now() - started) / 1000;
      media = null;
      if (thisLive) {
        recorded = blob; // kept only if "keep" is ticked
        finishLive(thisLive, blob, seconds);
      } else {
        transcribe(blob, seconds).then((ok) => { if (ok && onTurnEnd) onTurnEnd(); });
      }
    };
    media.start(250);
    if (live) box.value = "";
    heardSpeech = false;
    quietSince = 0;
    started = Date.now();
    button.setAttribute("aria-pressed", "true");
    label.textContent = t("stopRecording");
    level.hidden = false;
    meter(stream);
    ticking = setInterval(() => { time.textContent = t("elapsed", { s: Math.round((Date.now() - started) / 1000) }); }, 250);
    setStatus(t("recording"));
  }

  function stop() {
    if (!media || media.state === "inactive") return;
    clearInterval(ticking);
    button.setAttribute("aria-pressed", "false");
    label.textContent = t("record");
    level.hidden = true;
    if (audio) audio.close();
    audio = null;
    const recording = media;
    recording.stop();
    // Until the final text: "Recording… press again to stop." stayed under a stopped
    // recorder while the live transcription finished (seen in the journey's screenshots).
    setStatus(t("transcribing"));
  }

  button.addEventListener("click", () => (media ? stop() : start()));
  // A key cancels a running countdown (the candidate has more to say).
  document.addEventListener("keydown", () => {
    if (quietSince) { quietSince = Date.now(); if (countdown) countdown.textContent = ""; }
  });
  return {
    start() { if (!media) start(); },
    stop,
    recording() { return Boolean(media); },
    // The figures of the last recording, sent with the answer (then forgotten), and the
    // recording itself only when "keep" is ticked for this attempt.
    take() {
      const taken = { delivery, audio: keep.checked ? recorded : null };
      delivery = null;
      recorded = null;
      keep.checked = false; // an opt-in for one attempt, never remembered
      return taken;
    },
    // A new question: nothing of the last answer's recording stays on screen (its
    // "Transcribed. Edit it, then send." sat under the next question's empty box).
    reset() {
      delivery = null; recorded = null; showDelivery(null); time.textContent = "";
      stopWaiting(); setStatus("");
    },
  };
}

// Keep a recording with its saved attempt (the candidate opted in).
export function keepRecording(attemptId, audio) {
  if (!attemptId || !audio) return Promise.resolve();
  return fetch(`${BASE}/api/attempts/${attemptId}/recording`, {
    method: "PUT", headers: { "Content-Type": (audio.type || "audio/webm").split(";")[0] }, body: audio,
  }).catch(() => {});
}
