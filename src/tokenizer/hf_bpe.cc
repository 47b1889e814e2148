#include "tokenizer/hf_bpe.h"

namespace longctx {

Result<std::unique_ptr<Tokenizer>> load_hf_bpe_tokenizer(const std::string& path) {
  return make_error(ErrorCode::kUnsupported, "'{}': Hugging Face tokenizer.json models are not implemented yet", path);
}

}  // namespace longctx
