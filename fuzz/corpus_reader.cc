// Fuzz target: the corpus reader (src/corpus/corpus_reader.h) on one file of JSON lines, zstd
// JSON lines or plain text, with and without --skip-bad-records.
//
// Input: byte 0 chooses the settings, the rest is the file.
//   bits 0-1  file kind: 0 .jsonl, 1 .jsonl.zst, 2 .txt, 3 .jsonl with a dotted text field "a.b"
//   bit 2     skip bad records (else the first bad record ends the file with an error)
//   bit 3     max_record_bytes = 64 (the "record too large" path)
//   bit 4     resume: skip_to_after(record 2) first
// Invariants checked: every document returned is non-empty valid UTF-8 (the reader promises it),
// records increase, and nothing crashes or leaks.
#include <cstdlib>

#include "corpus/corpus_reader.h"
#include "fuzz_util.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const char* kNames[] = {"in.jsonl", "in.jsonl.zst", "in.txt", "in.jsonl"};
  const char* name = kNames[flags & 3];

  CorpusConfig cfg;
  cfg.inputs = {fuzz::scratch_dir()};
  if ((flags & 3) == 3) cfg.text_field = "a.b";
  cfg.skip_bad_records = flags & 4;
  if (flags & 8) cfg.max_record_bytes = 64;
  CorpusFiles files;
  files.root = fuzz::scratch_dir();
  files.paths = {fuzz::put_file(name, body)};
  files.relative = {name};
  files.sizes = {body.size()};

  BadRecordStats stats;
  CorpusFileReader reader(cfg, files, 0, &stats);
  if (flags & 16) {
    Status st = reader.skip_to_after(2);
    if (!st.is_ok()) return 0;
  }
  Document doc;
  uint64_t last = 0;
  for (int n = 0; n < 100000; ++n) {
    auto r = reader.next(&doc);
    if (!r.is_ok() || !*r) break;
    if (doc.text.empty() || !is_valid_utf8(doc.text) || doc.record <= last) std::abort();
    last = doc.record;
  }
  (void)stats.to_json().dump();
  return 0;
}
