// Text for training a tokenizer (`longctx tokenizer train`), sampled from a corpus.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"
#include "corpus/corpus_reader.h"

namespace longctx {

struct TrainingTextConfig {
  CorpusConfig corpus;            // inputs and text field; bad records are always skipped and counted
  uint64_t max_bytes = 40000000;  // text written in all
  uint32_t per_doc_bytes = 32768; // at most this much of each document
};

struct TrainingTextSummary {
  uint64_t bytes = 0;   // written, newlines included
  BadRecordStats bad;   // records skipped
};

// Writes training sentences (lines of documents) to `path`, one document's text per line group.
// Files are read one at a time, each contributing at most an equal share of max_bytes (so every
// shard and domain is represented), and every document at most per_doc_bytes, cut at its last
// newline within that (so a few huge books do not dominate).
Result<TrainingTextSummary> write_training_text(const TrainingTextConfig& cfg, const std::string& path);

}  // namespace longctx
