// JSON files (manifests, reports) through nlohmann::json, published atomically.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace longctx {

Result<nlohmann::json> read_json_file(const std::string& path);
// Pretty-printed (2-space indent), keys in insertion order of the object, trailing newline.
Status write_json_atomic(const std::string& path, const nlohmann::json& j);

}  // namespace longctx
