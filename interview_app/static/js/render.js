// Model output as Markdown, the one way the page renders it: markdown-it with raw
// HTML off, then DOMPurify with one configuration (the strictest the page ever used:
// no style, form or input elements), before it touches the DOM. Without those
// libraries (no `npm ci`) it is plain text. Nothing the model writes can run.

const SANITIZE = { FORBID_TAGS: ["style", "form", "input"] };
let md = null;

function renderer() {
  if (!md && window.markdownit) md = window.markdownit({ html: false, linkify: false, breaks: true });
  return md && window.DOMPurify ? md : null;
}

export function renderInto(el, text) {
  const markdown = renderer();
  if (markdown) el.innerHTML = window.DOMPurify.sanitize(markdown.render(text), SANITIZE);
  else el.textContent = text;
}
