// `longctx tokenize`: corpus -> document store (docs/store.md).
// A streaming pipeline: reader threads (read + decompress + parse; one per ~4 tokenizer threads)
// claim input files in order and cut each into batches of about `batch_bytes` of text, worker
// threads tokenize batches, and the calling thread writes them in input order (file, batch).
// Batches are cut by text size within a file alone, so the output is byte-identical for any
// thread count; each reader has at most `max_inflight / readers` batches and bytes in flight, so
// memory is bounded whatever the corpus size. The output directory follows the run lifecycle
// (core/run_dir.h): every `checkpoint_bytes` of text the partial files are fsynced and a checkpoint
// (resume.json) records the input position and the xxh64 of each partial file up to there: a
// killed run, started again with the same arguments, checks those checksums, truncates the partial
// files to the checkpoint and goes on, ending with the same bytes (or starts over, saying so, when
// a partial file no longer matches).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/progress.h"
#include "corpus/corpus_reader.h"
#include "tokenizer/tokenizer.h"

namespace longctx {

struct TokenizeConfig {
  CorpusConfig corpus;
  std::string out_dir;
  std::string tokenizer_path;       // recorded in the manifest
  int threads = 0;                  // tokenizer workers; 0 = all cores
  uint32_t task = 0, num_tasks = 1; // --task i/N: a deterministic share of the input files
  uint64_t batch_bytes = 2u << 20;  // text per batch
  int max_inflight = 0;             // batches in flight; 0 = 8 * threads + 2
  uint64_t max_inflight_bytes = 128u << 20;  // text in flight (bounds memory with very long documents)
  uint64_t checkpoint_bytes = 64u << 20;
  bool overwrite = false;           // replace a finished store in out_dir (only a document store)
};

struct TokenizeSummary {
  uint64_t documents = 0, tokens = 0, text_bytes = 0;
  BadRecordStats dropped;
  bool resumed = false;
  uint64_t resumed_documents = 0;
  double seconds = 0;
  std::vector<std::string> notes;  // what the run lifecycle did (resumed, started over and why, ...)
};

Result<TokenizeSummary> tokenize_corpus(const TokenizeConfig& cfg, const Tokenizer& tok, const ProgressFn& progress);

}  // namespace longctx
