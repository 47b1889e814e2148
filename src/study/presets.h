// The preset study configurations, compiled in from src/study/presets/*.json (CMake writes
// presets.cc from presets.cc.in at configure time).
#pragma once
#include <span>
#include <string_view>

namespace longctx::study {

struct PresetFile {
  std::string_view name;  // the file's stem: smoke, tiny, small
  std::string_view text;  // the file as committed
};
std::span<const PresetFile> preset_files();

}  // namespace longctx::study
