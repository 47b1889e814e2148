// Fuzz target: the SentencePiece model-proto reader (src/tokenizer/spm_model_proto.h) and what is
// built from it: the fast encoder's compiled tables (src/tokenizer/fast_spm_bpe.h), which then
// encodes a few fixed texts (ASCII, digits, runs of spaces, multi-byte and invalid UTF-8) and must
// agree with its own reference implementation (encode_reference) on each; and the native decoder
// (src/tokenizer/spm_decoder.h), which must decode those ids and every single id.
#include <cstdlib>

#include "fuzz_util.h"
#include "tokenizer/fast_spm_bpe.h"
#include "tokenizer/spm_decoder.h"
#include "tokenizer/spm_model_proto.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto proto = parse_spm_model_proto({reinterpret_cast<const char*>(data), size});
  if (!proto.is_ok()) return 0;
  auto fast = FastSpmBpe::compile(*proto);
  if (!fast.is_ok()) return 0;
  static const std::string_view kTexts[] = {"Hello world", "a  b   c 12345", "\xe2\x96\x81x\xc3\xa9\xe4\xb8\xad",
                                            "\xff\xfe bad \xc3", ""};
  std::vector<uint32_t> a, b;
  for (std::string_view t : kTexts) {
    a.clear();
    b.clear();
    (*fast)->encode(t, &a);
    (*fast)->encode_reference(t, &b);
    if (a != b) std::abort();
    for (uint32_t id : a)
      if (id >= proto->pieces.size()) std::abort();
  }
  auto dec = SpmDecoder::make(*proto);
  if (!dec.is_ok()) return 0;
  if (!(*dec)->decode(a, true).is_ok() || !(*dec)->decode(a, false).is_ok()) std::abort();
  for (uint32_t id = 0; id < proto->pieces.size() && id < 4096; ++id)
    if (!(*dec)->decode(std::span<const uint32_t>(&id, 1), false).is_ok()) std::abort();
  return 0;
}
