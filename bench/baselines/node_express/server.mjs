// Baseline: the seed's own stack, Express 5 + the openai Node SDK 6, relaying each
// `delta.content` as the same JSON `data:` frame our relay writes (no sleep).
// Run: PORT=8001 OPENAI_BASE_URL=http://127.0.0.1:9100/v1 node server.mjs
import express from "express";
import OpenAI from "openai";

const client = new OpenAI({ apiKey: "unused", baseURL: process.env.OPENAI_BASE_URL, maxRetries: 0 });
const app = express();
app.use(express.json());

app.get("/healthz", (req, res) => res.json({ status: "ok" }));

app.post("/api/answer", async (req, res) => {
  const controller = new AbortController();
  res.on("close", () => controller.abort());
  let stream;
  try {
    stream = await client.chat.completions.create(
      {
        model: "fake-model",
        messages: [
          { role: "system", content: "You are an interview coach." },
          { role: "user", content: req.body.question },
        ],
        stream: true,
      },
      { signal: controller.signal },
    );
  } catch (err) {
    res.status(502).json({ error: { code: "upstream_error", message: String(err) } });
    return;
  }
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
  });
  res.write("retry: 3000\n\n");
  let id = 0;
  try {
    for await (const chunk of stream) {
      const text = chunk.choices?.[0]?.delta?.content;
      if (text) {
        id += 1;
        res.write(`id: ${id}\ndata: ${JSON.stringify({ text })}\n\n`);
      }
    }
    id += 1;
    res.write(`id: ${id}\nevent: done\ndata: ${JSON.stringify({ finish_reason: "stop" })}\n\n`);
  } catch (err) {
    if (!controller.signal.aborted) {
      res.write(`event: error\ndata: ${JSON.stringify({ code: "upstream_disconnected" })}\n\n`);
    }
  }
  res.end();
});

const server = app.listen(Number(process.env.PORT || 8001), "127.0.0.1");
server.keepAliveTimeout = 5000;
