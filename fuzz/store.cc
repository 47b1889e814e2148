// Fuzz target: opening and reading a document store (src/store/document_store.h).
//
// Input: byte 0 holds flags, the rest is three parts cut at fuzz::kPartMarker: manifest.json,
// tokens.bin, docs.bin. Flag bit 0 rewrites the manifest's checksums to match the fuzzed data files
// (when the manifest is a JSON object), so that mutations also reach the code behind the checksum
// test. After a successful open every document's tokens are read: open() promises that readers may
// then index without checks; verify() streams tokens.bin and the packing reader reads its start.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/hash.h"
#include "fuzz_util.h"
#include "store/document_store.h"
#include "store/token_reader.h"

using namespace longctx;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  auto parts = fuzz::split_parts({reinterpret_cast<const char*>(data) + 1, size - 1}, 3);
  std::string manifest(parts[0]);
  if (flags & 1) {
    auto j = nlohmann::json::parse(manifest, nullptr, /*allow_exceptions=*/false);
    if (j.is_object()) {
      j["checksums"] = {{"tokens.bin", hex64(xxh64(parts[1]))}, {"docs.bin", hex64(xxh64(parts[2]))}};
      manifest = j.dump();
    }
  }
  fuzz::clear_scratch();
  fuzz::put_file("manifest.json", manifest);
  fuzz::put_file("tokens.bin", parts[1]);
  fuzz::put_file("docs.bin", parts[2]);
  auto s = DocumentStore::open(fuzz::scratch_dir());
  if (!s.is_ok()) return 0;
  (void)s->verify();
  std::vector<uint32_t> toks;
  uint64_t sum = 0;
  for (size_t i = 0; i < s->num_docs(); ++i) {
    if (!s->tokens(i, &toks).is_ok()) continue;  // an id not below the vocabulary
    for (uint32_t t : toks) sum += t;
  }
  // The packing reader (pread, ids checked) over the first tokens.
  auto reader = TokenReader::open(*s);
  if (reader.is_ok()) {
    toks.resize(std::min<uint64_t>(s->num_tokens(), 4096));
    if (reader->read(0, toks.size(), toks.data()).is_ok())
      for (uint32_t t : toks) sum += t;
  }
  return static_cast<int>(sum & 0);
}
