// Fuzz target: the Hugging Face tokenizer.json loader (src/tokenizer/hf_bpe.h). A file it accepts
// then encodes a few fixed texts; every id must be inside the vocabulary and decode (special tokens
// kept and skipped) must accept the ids it produced.
#include <cstdlib>

#include "fuzz_util.h"
#include "tokenizer/hf_bpe.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tok = load_hf_bpe_tokenizer(fuzz::put_file("tokenizer.json", {reinterpret_cast<const char*>(data), size}));
  if (!tok.is_ok()) return 0;
  static const std::string_view kTexts[] = {"Hello world", "a  b   c 12345\n\n", "x\xc3\xa9\xe4\xb8\xad's",
                                            "<|endoftext|>hi"};
  std::vector<uint32_t> ids;
  for (std::string_view t : kTexts) {
    ids.clear();
    if (!(*tok)->encode(t, &ids).is_ok()) continue;
    for (uint32_t id : ids)
      if (id >= (*tok)->vocab_size()) std::abort();
    for (bool skip : {false, true})
      if (!(*tok)->decode(ids, skip).is_ok() && (*tok)->info().decoder.find("unsupported") == std::string::npos)
        std::abort();  // decode must accept the ids encode produced (unless the file's decoder is unsupported)
  }
  return 0;
}
