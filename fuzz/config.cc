// Fuzz target: the model configuration (src/model/config.h): Hugging Face config.json as parsed
// JSON, validation, and the write/read round trip of what was accepted: a configuration that passes
// validate_config must come back unchanged from config_to_json -> config_from_json.
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "model/config.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  auto c = model::config_from_json(j);
  if (!c.is_ok()) return 0;
  if (!model::validate_config(*c).is_ok()) return 0;
  nlohmann::json once = model::config_to_json(*c);
  auto back = model::config_from_json(nlohmann::json::parse(once.dump()));
  if (!back.is_ok() || model::config_to_json(*back) != once) std::abort();
  return 0;
}
