// Shared helpers of the fuzz targets (fuzz/README.md).
//
// Most of our readers take paths, not buffers, so a target writes the fuzz input into files in a
// private scratch directory and calls the reader on them. Targets whose reader needs several files
// (a store is three, a packed directory two) cut the input into parts at kPartMarker; libFuzzer
// mutates the parts independently and its dictionary (fuzz/dict/) knows the marker.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// The entry point every target defines (libFuzzer's name; fuzz/replay_main.cc calls it too).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace longctx::fuzz {

inline constexpr std::string_view kPartMarker = "\n#LCTXFUZZ#\n";

// The input cut at every kPartMarker; always at least `min_parts` parts (missing ones are empty).
std::vector<std::string_view> split_parts(std::string_view input, size_t min_parts);
// The parts joined with the marker (the inverse of split_parts; seed-corpus builders use it).
std::string join_parts(const std::vector<std::string>& parts);

// A scratch directory for this process (under $TMPDIR, or /dev/shm when it exists, else /tmp),
// created on first use and removed at exit.
const std::string& scratch_dir();
// Writes `bytes` to scratch_dir()/name (replacing it) and returns the full path. Aborts if the
// scratch directory cannot be written: that is a broken machine, not a finding.
std::string put_file(const std::string& name, std::string_view bytes);
// Removes every file in scratch_dir() (not recursive: targets use flat names).
void clear_scratch();

}  // namespace longctx::fuzz
