// Reading one stream with EventSource, for every view: text deltas, the one `done`
// or `error` event that ends it, reconnects (EventSource resumes with Last-Event-ID
// by itself), and a stream that is gone when it reconnects (a 404 after it expired,
// a 204 after it ended): EventSource then closes without an event, and `gone` says so
// instead of leaving the screen waiting. Closing on `done` is what keeps a reconnect
// from ever starting a new generation.

export function readStream(url, { text, done, failed, reconnecting, gone, partial, interrupt }) {
  const es = new EventSource(url);
  // A live transcription's named events; the others are ignored.
  if (partial) es.addEventListener("partial", (event) => partial(JSON.parse(event.data)));
  if (interrupt) es.addEventListener("interrupt", (event) => interrupt(JSON.parse(event.data)));
  let over = false;
  const finish = () => {
    over = true;
    es.close();
  };
  es.onmessage = (event) => text(JSON.parse(event.data).text);
  es.addEventListener("done", (event) => {
    finish();
    done(JSON.parse(event.data));
  });
  es.addEventListener("error", (event) => {
    if (over) return;
    if (event.data) {
      finish();
      failed(JSON.parse(event.data));
    } else if (es.readyState === EventSource.CONNECTING) {
      if (reconnecting) reconnecting();
    } else {
      finish();
      gone();
    }
  });
  return { close: finish };
}

// A stream answered to a POST (a transcription: nothing to resume, so no EventSource):
// its events as they arrive, parsed as the SSE spec says.
export async function readPosted(response, { text, done, failed }) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const dispatch = (block) => {
    let event = "message";
    const data = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return;
    const payload = JSON.parse(data.join("\n"));
    if (event === "message") text(payload.text);
    else if (event === "done") done(payload);
    else if (event === "error") failed(payload);
  };
  for (;;) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    buffer += decoder.decode(value, { stream: true });
    let at;
    while ((at = buffer.search(/\r\n\r\n|\n\n|\r\r/)) >= 0) {
      const sep = buffer.slice(at, at + 4) === "\r\n\r\n" ? 4 : 2;
      dispatch(buffer.slice(0, at));
      buffer = buffer.slice(at + sep);
    }
  }
}
