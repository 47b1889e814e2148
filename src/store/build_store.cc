#include "store/build_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "core/file_io.h"
#include "core/hash.h"
#include "core/json_util.h"
#include "store/document_store.h"

namespace longctx {
namespace {

// A batch never spans files: it is keyed by (file position, index within the file), so the
// output order does not depend on how many reader threads there are.
struct Batch {
  uint32_t file_pos = 0;                      // position in the task's file list
  uint64_t idx = 0;                           // batch index within that file
  bool file_last = false;                     // the file's final batch (possibly without documents)
  int reader = 0;                             // which reader's in-flight budget it counts against
  std::vector<Document> docs;
  std::vector<std::vector<uint32_t>> tokens;  // filled by a worker
  BadRecordStats bad;                         // bad records met since the file's previous batch
  uint32_t end_file_pos = 0;                  // input position after this batch: task file list position
  uint64_t end_record = 0;                    //   and the last record consumed in that file (0: none)
  uint64_t raw_bytes_done = 0;                // compressed bytes read up to here (progress)
  uint64_t text_bytes = 0;                    // text held (memory bound)
  Status error;                               // a reader's or worker's failure
};

// Bounded, ordered hand-over between readers, workers and the writer. Every reader has its own
// in-flight budget (batches and text bytes): the writer only ever waits for the earliest
// unfinished file, whose reader cannot be starved by readers of later files, so no deadlock.
class Pipeline {
 public:
  Pipeline(int readers, int max_inflight, uint64_t max_bytes)
      : inflight_(readers, 0), bytes_(readers, 0), max_inflight_(max_inflight), max_bytes_(max_bytes) {}
  bool push(std::unique_ptr<Batch> b) {
    std::unique_lock<std::mutex> lk(mu_);
    const int r = b->reader;
    const uint64_t bytes = b->text_bytes;
    cv_space_.wait(lk, [&] {
      return (inflight_[r] < max_inflight_ && (inflight_[r] == 0 || bytes_[r] + bytes <= max_bytes_)) || stop_;
    });
    if (stop_) return false;
    ++inflight_[r];
    bytes_[r] += bytes;
    todo_.push_back(std::move(b));
    cv_todo_.notify_one();
    return true;
  }
  std::unique_ptr<Batch> take_work() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_todo_.wait(lk, [&] { return !todo_.empty() || stop_; });
    if (todo_.empty()) return nullptr;
    auto b = std::move(todo_.front());
    todo_.pop_front();
    return b;
  }
  void finish_work(std::unique_ptr<Batch> b) {
    std::lock_guard<std::mutex> lk(mu_);
    auto key = std::make_pair(b->file_pos, b->idx);
    done_[key] = std::move(b);
    cv_done_.notify_all();
  }
  std::unique_ptr<Batch> take_done(uint32_t file_pos, uint64_t idx) {
    std::unique_lock<std::mutex> lk(mu_);
    auto key = std::make_pair(file_pos, idx);
    cv_done_.wait(lk, [&] { return done_.count(key) || stop_; });
    if (!done_.count(key)) return nullptr;
    auto b = std::move(done_[key]);
    done_.erase(key);
    --inflight_[b->reader];
    bytes_[b->reader] -= b->text_bytes;
    cv_space_.notify_all();
    return b;
  }
  void stop() {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    cv_space_.notify_all();
    cv_todo_.notify_all();
    cv_done_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_space_, cv_todo_, cv_done_;
  std::deque<std::unique_ptr<Batch>> todo_;
  std::map<std::pair<uint32_t, uint64_t>, std::unique_ptr<Batch>> done_;
  std::vector<int> inflight_;
  std::vector<uint64_t> bytes_;
  int max_inflight_;
  uint64_t max_bytes_;
  bool stop_ = false;
};

// Identifies a run's inputs and settings, so a checkpoint is only resumed by the same command.
std::string run_fingerprint(const TokenizeConfig& cfg, const CorpusFiles& files, const std::vector<uint32_t>& mine,
                            const Tokenizer& tok) {
  Xxh64Stream h;
  auto add = [&](const std::string& s) {
    h.update(s.data(), s.size());
    h.update("\0", 1);
  };
  for (uint32_t i : mine) add(files.relative[i] + "#" + std::to_string(files.sizes[i]));
  add(cfg.corpus.text_field);
  add(cfg.corpus.domain_field);
  add(cfg.corpus.domain_from_path);
  add(cfg.corpus.default_domain);
  add(cfg.corpus.skip_bad_records ? "skip" : "strict");
  add(hex64(tok.model_checksum()));
  add(fmt::format("{}/{}", cfg.task, cfg.num_tasks));
  return hex64(h.digest());
}

}  // namespace

Result<TokenizeSummary> tokenize_corpus(const TokenizeConfig& cfg, const Tokenizer& tok, const ProgressFn& progress) {
  auto t0 = std::chrono::steady_clock::now();
  if (cfg.num_tasks == 0 || cfg.task >= cfg.num_tasks)
    return make_error(ErrorCode::kInvalidArgument, "--task {}/{}: expected 0 <= i < N", cfg.task, cfg.num_tasks);
  LONGCTX_ASSIGN_OR_RETURN(CorpusFiles files, list_corpus_files(cfg.corpus));
  if (!cfg.corpus.domain_from_path.empty()) {
    try {
      std::regex re(cfg.corpus.domain_from_path);
    } catch (const std::regex_error& e) {
      return make_error(ErrorCode::kInvalidArgument, "--domain-from-path '{}' is not a valid regular expression: {}",
                        cfg.corpus.domain_from_path, e.what());
    }
  }
  const std::vector<uint32_t> mine = task_file_indices(files, cfg.task, cfg.num_tasks);
  const std::string& out = cfg.out_dir;
  const std::string fingerprint = run_fingerprint(cfg, files, mine, tok);
  const uint32_t token_bytes = token_bytes_for_vocab(tok.vocab_size());

  LONGCTX_RETURN_IF_ERROR(make_dirs(out));
  LONGCTX_ASSIGN_OR_RETURN(DirLock lock, DirLock::acquire(out));
  const std::string ckpt_path = out + "/resume.json";
  auto read_checkpoint = [&]() -> Result<nlohmann::json> {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json ck, read_json_file(ckpt_path));
    for (const char* k : {"fingerprint", "file_pos", "record", "documents", "tokens", "text_bytes", "domains", "dropped"})
      if (!ck.contains(k)) return make_error(ErrorCode::kCorrupt, "'{}': checkpoint lacks '{}'; remove it to start over", ckpt_path, k);
    return ck;
  };

  // A run killed while publishing: finish the renames. If it had also finished its work for this
  // very command, that is the result.
  LONGCTX_ASSIGN_OR_RETURN(bool completed, complete_interrupted_publish(out));
  if (file_exists(out + "/manifest.json") && file_exists(ckpt_path)) {
    auto ck = read_checkpoint();
    if (ck.is_ok() && (*ck)["fingerprint"] == fingerprint) {
      LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(ckpt_path));
      LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, read_json_file(out + "/manifest.json"));
      TokenizeSummary done;
      done.resumed = true;
      done.documents = done.resumed_documents = m["counts"].value("documents", uint64_t{0});
      done.tokens = m["counts"].value("tokens", uint64_t{0});
      done.text_bytes = m["counts"].value("text_bytes", uint64_t{0});
      done.dropped = BadRecordStats::from_json(m.value("dropped", nlohmann::json::object()));
      return done;
    }
  }
  (void)completed;
  if (file_exists(out + "/manifest.json")) {
    if (!cfg.overwrite)
      return make_error(ErrorCode::kInvalidArgument, "'{}' already holds a finished store; choose another --out or pass --overwrite", out);
    LONGCTX_RETURN_IF_ERROR(remove_store_files(out));
  }

  // ---- resume from a checkpoint, or start fresh ----
  TokenizeSummary sum;
  StoreWriter writer;
  uint32_t start_pos = 0;
  uint64_t start_record = 0;
  bool resumed = false;
  if (file_exists(ckpt_path)) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json ck, read_checkpoint());
    if (ck["fingerprint"] != fingerprint) {
      if (!cfg.overwrite)
        return make_error(ErrorCode::kInvalidArgument,
                          "'{}' holds an interrupted run of a different command (other inputs, tokenizer or options); "
                          "rerun the original command to finish it, or pass --overwrite to discard it", out);
      LONGCTX_RETURN_IF_ERROR(remove_store_files(out));
    }
  }
  if (file_exists(ckpt_path)) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json ck, read_checkpoint());
    try {
      auto w = StoreWriter::resume(out, token_bytes, ck["tokens"].get<uint64_t>(), ck["documents"].get<uint64_t>());
      if (!w.is_ok()) return w.status();
      writer = std::move(*w);
      writer.set_domains(ck["domains"].get<std::vector<std::string>>());
      start_pos = ck["file_pos"].get<uint32_t>();
      start_record = ck["record"].get<uint64_t>();
      sum.text_bytes = ck["text_bytes"].get<uint64_t>();
      sum.dropped = BadRecordStats::from_json(ck["dropped"]);
    } catch (const nlohmann::json::exception& e) {
      return make_error(ErrorCode::kCorrupt, "'{}': unreadable checkpoint ({}); remove it to start over", ckpt_path, e.what());
    }
    sum.documents = writer.num_docs();
    sum.tokens = writer.num_tokens();
    sum.resumed = resumed = true;
    sum.resumed_documents = sum.documents;
  } else {
    LONGCTX_ASSIGN_OR_RETURN(writer, StoreWriter::create(out, token_bytes));
  }
  const uint64_t resumed_tokens = sum.tokens;
  uint64_t raw_at_start = 0;
  for (uint32_t p = 0; p < start_pos && p < mine.size(); ++p) raw_at_start += files.sizes[mine[p]];

  int threads = cfg.threads > 0 ? cfg.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int max_inflight = cfg.max_inflight > 0 ? cfg.max_inflight : 8 * threads + 2;
  // Readers: one per ~4 tokenizer threads (zstd + JSON cost about a third of tokenizing with the
  // fast encoder), never more than there are files left.
  const uint32_t files_left = start_pos < mine.size() ? static_cast<uint32_t>(mine.size() - start_pos) : 0;
  const int readers = static_cast<int>(std::max<uint32_t>(1, std::min<uint32_t>(files_left, std::max(1, threads / 4))));
  Pipeline pipe(readers, std::max(2, max_inflight / readers), std::max<uint64_t>(cfg.batch_bytes, cfg.max_inflight_bytes / readers));
  uint64_t raw_total = 0;
  for (uint32_t i : mine) raw_total += files.sizes[i];
  std::vector<uint64_t> raw_before(mine.size() + 1, 0);  // compressed bytes of the files before each position
  for (size_t p = 0; p < mine.size(); ++p) raw_before[p + 1] = raw_before[p] + files.sizes[mine[p]];

  // ---- readers: claim files in order, cut each into batches of ~batch_bytes of text ----
  std::atomic<uint32_t> next_file{start_pos};
  std::vector<std::thread> reader_threads;
  for (int r = 0; r < readers; ++r) {
    reader_threads.emplace_back([&, r] {
      for (uint32_t p; (p = next_file.fetch_add(1)) < mine.size();) {
        uint64_t idx = 0, batch_text = 0;
        auto batch = std::make_unique<Batch>();
        CorpusFileReader rd(cfg.corpus, files, mine[p], &batch->bad);
        auto flush = [&](bool last) -> bool {
          batch->file_pos = p;
          batch->idx = idx++;
          batch->file_last = last;
          batch->reader = r;
          batch->text_bytes = batch_text;
          if (last) {
            batch->end_file_pos = p + 1;
            batch->end_record = 0;
            batch->raw_bytes_done = raw_before[p + 1];
          }
          auto next = std::make_unique<Batch>();
          bool ok = pipe.push(std::move(batch));
          batch = std::move(next);
          batch_text = 0;
          rd.set_bad_record_sink(&batch->bad);
          return ok;
        };
        Status st;
        if (p == start_pos && start_record > 0) st = rd.skip_to_after(start_record);
        Document doc;
        while (st.is_ok()) {
          auto got = rd.next(&doc);
          if (!got.is_ok()) {
            st = got.status();
            break;
          }
          if (!*got) break;
          batch_text += doc.text.size();
          batch->end_file_pos = p;
          batch->end_record = doc.record;
          batch->raw_bytes_done = raw_before[p] + rd.raw_bytes_read();
          batch->docs.push_back(std::move(doc));
          doc = Document();
          if (batch_text >= cfg.batch_bytes && !flush(false)) return;
        }
        // The file's last batch carries a read error, if any, to the writer (which then stops).
        batch->error = st;
        if (!flush(true) || !st.is_ok()) return;
      }
    });
  }

  // ---- workers: tokenize whole batches ----
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (auto b = pipe.take_work()) {
        b->tokens.resize(b->docs.size());
        for (size_t i = 0; i < b->docs.size() && b->error.is_ok(); ++i) {
          b->error = tok.encode(b->docs[i].text, &b->tokens[i]);
          if (!b->error.is_ok())
            b->error = b->error.with_context(fmt::format("{}:{}", files.paths[b->docs[i].file_index], b->docs[i].record));
        }
        pipe.finish_work(std::move(b));
      }
    });
  }

  // ---- writer (this thread): in input order ----
  Status status;
  uint64_t since_ckpt = 0;
  auto write_checkpoint = [&](const Batch& b) -> Status {
    LONGCTX_RETURN_IF_ERROR(writer.sync());
    nlohmann::json ck = {{"fingerprint", fingerprint},
                         {"file_pos", b.end_file_pos},
                         {"record", b.end_record},
                         {"documents", writer.num_docs()},
                         {"tokens", writer.num_tokens()},
                         {"text_bytes", sum.text_bytes},
                         {"domains", writer.domains()},
                         {"dropped", sum.dropped.to_json()}};
    return write_json_atomic(ckpt_path, ck);
  };
  for (uint32_t pos = start_pos, idx = 0; pos < mine.size();) {
    auto b = pipe.take_done(pos, idx);
    if (!b) break;
    const bool last_batch = b->file_last && pos + 1 == mine.size();
    if (b->file_last) {
      ++pos;
      idx = 0;
    } else {
      ++idx;
    }
    if (!b->error.is_ok()) {
      status = b->error;
      break;
    }
    sum.dropped.merge(b->bad);
    for (size_t i = 0; i < b->docs.size() && status.is_ok(); ++i) {
      const Document& d = b->docs[i];
      auto dom = writer.checked_domain_id(d.domain);
      if (!dom.is_ok()) {
        status = dom.status().with_context(fmt::format("{}:{}", files.paths[d.file_index], d.record));
        break;
      }
      status = writer.add(b->tokens[i], d.id_hash, d.record, d.file_index - (mine.empty() ? 0 : mine.front()), *dom,
                          d.text.size());
      sum.text_bytes += d.text.size();
      since_ckpt += d.text.size();
    }
    if (!status.is_ok()) break;
    sum.documents = writer.num_docs();
    sum.tokens = writer.num_tokens();
    if (since_ckpt >= cfg.checkpoint_bytes && !last_batch) {
      status = write_checkpoint(*b);
      if (!status.is_ok()) break;
      since_ckpt = 0;
    }
    if (progress) {
      ProgressSnapshot s;
      s.phase = "tokenize";
      s.docs = sum.documents;
      s.tokens = sum.tokens;
      s.bytes = b->raw_bytes_done;
      s.bytes_total = raw_total;
      s.bytes_at_start = raw_at_start;
      s.tokens_at_start = resumed_tokens;
      s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      s.final = last_batch;
      progress(s);
    }
  }
  pipe.stop();  // done or failed: wake every reader and worker
  for (auto& t : reader_threads) t.join();
  for (auto& w : workers) w.join();
  if (!status.is_ok()) return status;

  // ---- publish ----
  nlohmann::json manifest = nlohmann::json::object();
  manifest["tokenizer"] = {{"path", cfg.tokenizer_path},
                           {"impl", tok.impl_name()},
                           {"checksum", hex64(tok.model_checksum())},
                           {"vocab_size", tok.vocab_size()},
                           {"bos_id", tok.bos_id()},
                           {"eos_id", tok.eos_id()}};
  manifest["corpus"] = {{"text_field", cfg.corpus.text_field},
                        {"domain_field", cfg.corpus.domain_field},
                        {"domain_from_path", cfg.corpus.domain_from_path},
                        {"default_domain", cfg.corpus.default_domain},
                        {"skip_bad_records", cfg.corpus.skip_bad_records}};
  nlohmann::json fl = nlohmann::json::array();
  for (uint32_t i : mine) fl.push_back({{"path", files.relative[i]}, {"bytes", files.sizes[i]}});
  manifest["files"] = fl;
  manifest["task"] = {{"index", cfg.task}, {"count", cfg.num_tasks}};
  manifest["dropped"] = sum.dropped.to_json();
  manifest["counts"]["text_bytes"] = sum.text_bytes;
  LONGCTX_RETURN_IF_ERROR(writer.finish(manifest));
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(ckpt_path));
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace longctx
