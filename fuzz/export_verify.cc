// Fuzz target: the readers of our exports (src/store/exporters.h verify_export, what
// `longctx verify` runs): the Megatron index (.idx with its .bin), llm.c token shards and the
// paper's JSON-lines rows.
//
// Input: byte 0 chooses the format (0: Megatron, 1: llm.c, 2: rows), the rest is the file; for
// Megatron two parts cut at fuzz::kPartMarker, the .idx and the .bin.
#include "fuzz_util.h"
#include "store/exporters.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  fuzz::clear_scratch();
  switch (data[0] % 3) {
    case 0: {
      auto parts = fuzz::split_parts(body, 2);
      fuzz::put_file("export.bin", parts[1]);
      (void)verify_export(fuzz::put_file("export.idx", parts[0]));
      break;
    }
    case 1: (void)verify_export(fuzz::put_file("export_000000.bin", body)); break;
    default: (void)verify_export(fuzz::put_file("rows.jsonl", body)); break;
  }
  return 0;
}
