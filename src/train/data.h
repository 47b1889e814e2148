// Training data (docs/training.md "Data"): sequences of T tokens with their document spans, read
// by memory map from a packed mixture (`longctx mix`: manifest.json + shard-NNNNN.lcpk) or a
// Megatron-LM indexed dataset (PREFIX.bin + PREFIX.idx), and the order in which training visits
// them.
//
// Units. A packed chunk of L tokens gives floor(L / T) sequences ("units") of T tokens (T = L by
// default); a Megatron dataset is one token stream (its sequences one after the other, each a
// document) cut into floor(total / T) units. Checks as the data is opened: the manifest, every
// shard's xxh64 against the manifest, headers and span tables (src/store readers); the Megatron
// index's structure; and, as each unit is read, every token id against the model's vocabulary.
//
// Order. Sequence s of the run (s = 0, 1, ...) is unit perm_e[s mod n] of the training units,
// e = s div n, where perm_e is a Fisher-Yates shuffle seeded by (seed, e). Micro-batch k of step t
// holds sequences (t * K + k) * B .. + B - 1 (K micro-batches per step over all ranks, B sequences
// each) and belongs to rank k mod N. So the order is a pure function of (seed, step, rank): a
// resumed run reads exactly what the uninterrupted run would have, and N ranks together read what
// one process with N times the accumulation reads.
//
// Held-out units: --val-share takes the round(share * n) units (at least one) with the smallest
// mix64(unit) from training for good; --val-data takes another dataset whole.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx::train {

struct SeqSpan {
  int32_t start = 0, end = 0;  // positions in the sequence, end exclusive
  int32_t domain = -1;         // index into the source's domains; -1 = padding
};

// A dataset cut into units of seq_len tokens.
class TokenSource {
 public:
  virtual ~TokenSource() = default;
  virtual uint64_t num_units() const = 0;
  virtual int64_t seq_len() const = 0;
  virtual const std::vector<std::string>& domains() const = 0;
  // tokens: (seq_len); spans: the unit's spans in order, covering [0, seq_len). Fails naming the
  // file and position of a token id not below `vocab_size`.
  virtual Status read(uint64_t unit, int32_t* tokens, std::vector<SeqSpan>* spans) const = 0;
};

struct SourceInfo {
  int64_t native_seq_len = 0;  // packed: the chunk length; Megatron: 0 (a stream)
  uint64_t vocab_size = 0;     // the data's vocabulary when recorded (0 = unknown)
  uint64_t tokens = 0;         // tokens in the dataset
};

// Opens `path`: a packed directory, or a Megatron PREFIX / PREFIX.idx / PREFIX.bin. seq_len 0 = the
// packed chunk length (a Megatron dataset needs one). Refuses a seq_len beyond the chunk length
// and a dataset whose recorded vocabulary exceeds `model_vocab`, with the numbers.
Result<std::unique_ptr<TokenSource>> open_token_source(const std::string& path, int64_t seq_len,
                                                       uint64_t model_vocab, SourceInfo* info = nullptr);

// Splits units 0..n-1 into training and held-out units (the header's rule).
void split_units(uint64_t n, double val_share, std::vector<uint64_t>* train, std::vector<uint64_t>* val);

// The training order of the header comment.
class DataOrder {
 public:
  DataOrder(std::vector<uint64_t> units, uint64_t seed) : units_(std::move(units)), seed_(seed) {}
  uint64_t size() const { return units_.size(); }
  // The unit of sequence s of the run.
  uint64_t unit(uint64_t s);

 private:
  std::vector<uint64_t> units_;
  uint64_t seed_;
  uint64_t epoch_ = UINT64_MAX;
  std::vector<uint64_t> perm_;
};

// One micro-batch of B sequences of T tokens, row-major (B,T), ready for model::Batch.
struct MicroBatch {
  int B = 0, T = 0;
  std::vector<int32_t> inputs, targets, doc_start, domain;  // domain of each position's prediction, -1: none
};

// Builds a micro-batch from units. targets[t] = tokens[t+1] (-1 at the last position and where
// position t or t+1 is padding). With doc_mask, positions attend within their span only
// (doc_start = the span's start) and the last position of a span predicts nothing, so a chunk of
// two documents scores exactly as the two documents run separately.
Status build_micro_batch(const TokenSource& src, const std::vector<uint64_t>& units, bool doc_mask,
                         MicroBatch* out);

}  // namespace longctx::train
