// Corpus readers (docs/corpus.md): JSON lines (.jsonl, .jsonl.zst, streaming and multi-frame) and
// plain text (.txt, one document per file), from files, directories (recursive) and globs.
// SlimPajama's layout is the default: {"text": ..., "meta": {"redpajama_set_name": ...}}.
// JSON is read as Python's json module reads it where they could differ: a repeated key means its
// last value, and a UTF-8 byte-order mark at the start of a file is dropped (also in .txt files).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/stream.h"

namespace longctx {

// Why a record was rejected. The order is the order of the manifest's "dropped" table.
enum class BadRecord : int {
  kMalformedJson = 0,   // the line is not a JSON object
  kMissingText,         // the text field is absent
  kNonStringText,       // the text field is not a string
  kInvalidUtf8,         // the text (or a .txt file) is not valid UTF-8
  kEmptyText,           // the text is empty
  kCorruptFile,         // truncated or corrupt zstd data: the rest of the file is lost
  kUnreadableFile,      // the file cannot be opened or read (also: a symbolic link cycle)
  kRecordTooLarge,      // a line longer than CorpusConfig::max_record_bytes
  kCount
};
const char* bad_record_name(BadRecord r);

struct CorpusConfig {
  std::vector<std::string> inputs;           // files, directories, globs
  std::string text_field = "text";           // dotted path into each JSON record
  std::string domain_field = "meta.redpajama_set_name";  // dotted path; "" to disable
  std::string domain_from_path;              // regex over the relative path; capture group 1 is the domain
  std::string default_domain = "unknown";    // when no field or pattern gives one
  bool skip_bad_records = false;             // default: the first bad record is an error
  uint64_t max_record_bytes = 256u << 20;    // longest JSON line kept (bounds memory)
};

// One document as read from the corpus. `id` = "<relative path>:<record>" where record is the
// 1-based line number (JSON lines) or 1 (.txt, one document per file): stable across runs, machines and task splits.
struct Document {
  std::string text;
  std::string domain;
  uint32_t file_index = 0;   // index into the corpus's sorted file list
  uint64_t record = 0;
  uint64_t id_hash = 0;      // xxh64(id): the basis of every sampling decision
};

struct BadRecordExample {
  BadRecord reason;
  std::string where;   // "file:line"
  std::string detail;  // what was expected vs found
};

struct BadRecordStats {
  std::array<uint64_t, static_cast<int>(BadRecord::kCount)> counts{};
  std::vector<BadRecordExample> examples;  // the first few of each reason
  uint64_t total() const;
  void add(const BadRecordExample& ex, size_t max_examples_per_reason = 3);
  void merge(const BadRecordStats& o);
  nlohmann::json to_json() const;
  static BadRecordStats from_json(const nlohmann::json& j);
};

// The input files of a corpus: sorted paths plus the root their relative paths are taken from.
struct CorpusFiles {
  std::string root;
  std::vector<std::string> paths;     // absolute or as given
  std::vector<std::string> relative;  // relative to root: the basis of document ids
  std::vector<uint64_t> sizes;        // bytes on disk
  // Why an entry cannot be read (a symbolic link cycle or a dangling link, see corpus_files.h);
  // empty, or "" for an entry, when it is readable. The reader reports such an entry as an
  // unreadable_file bad record.
  std::vector<std::string> problems;
};
Result<CorpusFiles> list_corpus_files(const CorpusConfig& cfg);

// Deterministic share of files for `--task i/N`: contiguous ranges by cumulative size, so
// concatenating the outputs of tasks 0..N-1 reproduces the single-run order exactly.
std::vector<uint32_t> task_file_indices(const CorpusFiles& files, uint32_t task, uint32_t num_tasks);

// Reads the documents of one file in order.
class CorpusFileReader {
 public:
  // `stats` receives bad records when cfg.skip_bad_records is set (owned by the caller).
  CorpusFileReader(const CorpusConfig& cfg, const CorpusFiles& files, uint32_t file_index,
                   BadRecordStats* stats);
  ~CorpusFileReader();
  // true: *doc holds the next document; false: end of file. A bad record is an error unless
  // skipping, in which case it is counted and reading goes on.
  Result<bool> next(Document* doc);
  // Positions the reader just after record `record` (0: at the start); resume support.
  Status skip_to_after(uint64_t record);
  uint64_t raw_bytes_read() const;
  // Where bad records are counted from now on (the tokenizer moves it from batch to batch).
  void set_bad_record_sink(BadRecordStats* stats) { stats_ = stats; }

 private:
  Status bad(BadRecord why, uint64_t record, const std::string& detail);
  const CorpusConfig& cfg_;
  const CorpusFiles& files_;
  uint32_t file_index_;
  BadRecordStats* stats_;
  std::unique_ptr<LineReader> lines_;
  bool is_txt_ = false, txt_done_ = false, opened_ = false, dead_ = false;
  std::string path_domain_;
  struct Parser;
  std::unique_ptr<Parser> parser_;
  std::string line_;
};

// Validates UTF-8 (simdjson's validator).
bool is_valid_utf8(std::string_view s);

// Makes the `padding` bytes after the end of `s` allocated and zero, leaving s->size() as it was.
// simdjson reads up to SIMDJSON_PADDING bytes past its input without using them; bytes that were
// only reserve()d are uninitialised, and valgrind's memcheck reports simdjson's reads of them as
// jumps on uninitialised values.
void pad_with_zeros(std::string* s, size_t padding);

}  // namespace longctx
