// Talks to `longctx serve` through the official OpenAI client library: one plain and one streamed
// completion with the same prompt, printed as one JSON line for tests/eval/serve_test.cc.
// Usage: node openai_client.mjs BASE_URL MODEL PROMPT MAX_TOKENS
import OpenAI from "openai";

const [base, model, prompt, maxTokens] = process.argv.slice(2);
const client = new OpenAI({ baseURL: base, apiKey: "unused", maxRetries: 0, timeout: 60000 });
const plain = await client.completions.create({ model, prompt, max_tokens: Number(maxTokens), temperature: 0 });
let streamed = "";
let finish = null;
let chunks = 0;
const stream = await client.completions.create({ model, prompt, max_tokens: Number(maxTokens), temperature: 0, stream: true });
for await (const chunk of stream) {
  chunks += 1;
  streamed += chunk.choices[0].text;
  if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
}
const models = await client.models.list();
let badStatus = null;
try {
  await client.completions.create({ model, prompt: "x".repeat(10), max_tokens: 1 << 29 });
} catch (e) {
  badStatus = e.status;
}
console.log(JSON.stringify({
  text: plain.choices[0].text,
  finish_reason: plain.choices[0].finish_reason,
  usage: plain.usage,
  streamed,
  stream_finish: finish,
  chunks,
  models: models.data.map((m) => m.id),
  bad_status: badStatus,
}));
