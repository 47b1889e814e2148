// A SlimPajama-shaped document store written directly (no text, no tokenizer): per domain,
// log-normal document lengths with the paper's medians and the spreads of
// corpus/synth_corpus.h's slimpajama_domains(), domain token shares as in the authors' code, and
// random token ids. For scale tests and benchmarks of mixing (tokenizing gigabytes of text here
// would take hours). text_bytes is set to 3.68 x tokens x a per-document factor in [0.8, 1.25),
// so paper-script's character-based length estimate errs as it does on real text.
#pragma once
#include <cstdint>
#include <string>

#include "core/status.h"

namespace longctx {

struct SynthStoreConfig {
  std::string out_dir;
  uint64_t tokens = 100000000;  // total tokens (to one document)
  uint64_t seed = 1;
  uint32_t vocab_size = 32000;
  uint64_t max_doc_tokens = 4000000;
  bool overwrite = false;  // replace a document store in out_dir (nothing else is ever replaced)
};

Status build_synth_store(const SynthStoreConfig& cfg);

}  // namespace longctx
