// Prefill tokens/s of llama.cpp (the build node-llama-cpp ships) on a GGUF file, CPU only: the
// same token ids our engine prefills in bench/eval/prefill_vs_llamacpp.sh, in batches of 512.
// Usage: node prefill.mjs MODEL.gguf TOKENS THREADS ROUNDS  -> one JSON line (the best round)
import { getLlama } from "node-llama-cpp";

const [path, n, threads, rounds] = process.argv.slice(2).map((v, i) => (i === 0 ? v : Number(v)));
const llama = await getLlama({ gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
let best = Infinity;
for (let r = 0; r < rounds; r++) {
  const context = await model.createContext({ contextSize: n + 64, batchSize: 512, threads, flashAttention: false });
  const seq = context.getSequence();
  // the ids bench/eval/prefill_vs_llamacpp.sh passes to `longctx generate --prompt-ids`
  const tokens = Array.from({ length: n }, (_, i) => 3 + ((i * 7919) % 5990));
  const t0 = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(tokens);
  best = Math.min(best, (performance.now() - t0) / 1000);
  await context.dispose();
}
console.log(JSON.stringify({ engine: "llama.cpp (node-llama-cpp 3.21.1)", tokens: n, threads, seconds: best, tokens_per_s: n / best }));
await model.dispose();
await llama.dispose();
