#include "corpus/training_text.h"

#include <algorithm>

#include "core/file_io.h"
#include "core/utf8.h"

namespace longctx {

Result<TrainingTextSummary> write_training_text(const TrainingTextConfig& cfg, const std::string& path) {
  CorpusConfig cc = cfg.corpus;
  cc.skip_bad_records = true;
  TrainingTextSummary sum;
  LONGCTX_ASSIGN_OR_RETURN(CorpusFiles files, list_corpus_files(cc));
  LONGCTX_ASSIGN_OR_RETURN(FileWriter w, FileWriter::open(path, "wb"));
  const uint64_t max = cfg.max_bytes;
  const uint64_t per_file = std::max<uint64_t>(max / files.paths.size(), 4096);
  Document d;
  for (uint32_t i = 0; i < files.paths.size() && sum.bytes < max; ++i) {
    CorpusFileReader reader(cc, files, i, &sum.bad);
    uint64_t from_file = 0;
    while (from_file < per_file && sum.bytes < max) {
      auto got = reader.next(&d);
      if (!got.is_ok()) return got.status();
      if (!*got) break;
      std::string_view t = utf8_prefix(d.text, cfg.per_doc_bytes);
      size_t cut = t.rfind('\n');
      if (cut != std::string_view::npos && t.size() < d.text.size()) t = t.substr(0, cut);
      LONGCTX_RETURN_IF_ERROR(w.write(t));
      LONGCTX_RETURN_IF_ERROR(w.write("\n"));
      sum.bytes += t.size() + 1;
      from_file += t.size() + 1;
    }
  }
  LONGCTX_RETURN_IF_ERROR(w.close());
  return sum;
}

}  // namespace longctx
