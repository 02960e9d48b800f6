// Reading one stream with EventSource, for every view: text deltas, the one `done`
// or `error` event that ends it, reconnects (EventSource resumes with Last-Event-ID
// by itself), and a stream that is gone when it reconnects (a 404 after it expired,
// a 204 after it ended): EventSource then closes without an event, and `gone` says so
// instead of leaving the screen waiting. Closing on `done` is what keeps a reconnect
// from ever starting a new generation.

export function readStream(url, { text, done, failed, reconnecting, gone }) {
  const es = new EventSource(url);
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
