// Hugging Face `tokenizers` (npm package, the Rust library's native binding) as the reference for
// the hf-bpe encoder (src/tokenizer/hf_bpe.h):
//   node hf_reference.js train OUT_DIR FILE...           -> OUT_DIR/gpt2style.json, OUT_DIR/llama3style.json
//   node hf_reference.js encode TOKENIZER.json IN.json OUT.json   (IN: array of strings; OUT: array of id arrays)
//   node hf_reference.js bench TOKENIZER.json FILE...    (prints MB/s and tokens/s, one document at a time)
const fs = require('fs');
const path = require('path');
const { Tokenizer, BPE, byteLevelPreTokenizer, byteLevelDecoder } = require('tokenizers');

// LLaMA-3's split pattern (its tokenizer.json pre_tokenizer).
const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

function bytesToUnicode() {
  const cps = [];
  let next = 256;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    cps.push(printable ? b : next++);
  }
  return cps.map((c) => String.fromCodePoint(c));
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'train') {
    const [outDir, ...files] = args;
    const tok = new Tokenizer(BPE.empty());
    tok.setPreTokenizer(byteLevelPreTokenizer(false, true));
    tok.train(files);
    tok.addSpecialTokens(['<|endoftext|>']);
    fs.mkdirSync(outDir, { recursive: true });
    const gpt2 = path.join(outDir, 'gpt2style.json');
    tok.save(gpt2, false);
    // LLaMA-3 style: Split(Regex, Isolated) + ByteLevel(use_regex=false), ignore_merges, the full byte
    // alphabet in the vocabulary, two added tokens.
    const j = JSON.parse(fs.readFileSync(gpt2, 'utf8'));
    j.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: LLAMA3_PATTERN }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    };
    j.model.ignore_merges = true;
    // Ids stay consistent (vocabulary 0..n-1, added tokens after it), as in real models.
    let next = Object.keys(j.model.vocab).length;
    for (const ch of bytesToUnicode()) if (!(ch in j.model.vocab)) j.model.vocab[ch] = next++;
    for (const t of j.added_tokens) t.id = next++;
    j.added_tokens.push({ id: next, content: '<|begin_of_text|>', single_word: false, lstrip: false, rstrip: false,
                          normalized: false, special: true });
    fs.writeFileSync(path.join(outDir, 'llama3style.json'), JSON.stringify(j));
    // Wrong ids in added_tokens (the library re-assigns them on load, with a warning), one added
    // token that is also a vocabulary token, and a normalized (non-special) added token.
    j.added_tokens[0].id = 3;
    j.added_tokens[1].id = 4;
    j.added_tokens.push({ id: 9, content: 'the', single_word: false, lstrip: false, rstrip: false,
                          normalized: false, special: true });
    j.added_tokens.push({ id: 99, content: 'License', single_word: false, lstrip: false, rstrip: false,
                          normalized: true, special: false });
    fs.writeFileSync(path.join(outDir, 'reassigned.json'), JSON.stringify(j));
    // Qwen-2 style: an NFC normalizer in front.
    j.normalizer = { type: 'NFC' };
    fs.writeFileSync(path.join(outDir, 'nfc.json'), JSON.stringify(j));
    return;
  }
  if (cmd === 'encode') {
    const [model, input, output] = args;
    const tok = Tokenizer.fromFile(model);
    const texts = JSON.parse(fs.readFileSync(input, 'utf8'));
    const out = [];
    for (const t of texts) out.push(Array.from((await tok.encode(t, null, { addSpecialTokens: false })).getIds()));
    fs.writeFileSync(output, JSON.stringify(out));
    return;
  }
  if (cmd === 'bench') {
    const [model, ...files] = args;
    const tok = Tokenizer.fromFile(model);
    const docs = files.map((f) => fs.readFileSync(f, 'utf8'));
    let bytes = 0, tokens = 0;
    const t0 = process.hrtime.bigint();
    for (const d of docs) {
      tokens += (await tok.encode(d, null, { addSpecialTokens: false })).getIds().length;
      bytes += Buffer.byteLength(d, 'utf8');
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ seconds: s, bytes, tokens, mb_per_s: bytes / s / 1e6, tokens_per_s: tokens / s }));
    return;
  }
  console.error('usage: hf_reference.js train|encode|bench ...');
  process.exit(2);
}
main().catch((e) => { console.error(e); process.exit(1); });
