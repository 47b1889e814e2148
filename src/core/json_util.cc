#include "core/json_util.h"

#include "core/file_io.h"

namespace longctx {

Result<nlohmann::json> read_json_file(const std::string& path) {
  LONGCTX_ASSIGN_OR_RETURN(std::string text, read_file(path));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::kCorrupt, "'{}': not valid JSON", path);
  return j;
}

Status write_json_atomic(const std::string& path, const nlohmann::json& j) {
  // Invalid UTF-8 in a string (a file name, say) is replaced rather than thrown on.
  return write_file_atomic(path, j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace longctx
