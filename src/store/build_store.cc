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
#include "core/run_dir.h"
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

// The task's input files (`--task i/N` share) and their compressed sizes for progress.
struct TaskInputs {
  CorpusFiles files;
  std::vector<uint32_t> mine;        // indices into `files`, in corpus order
  std::vector<uint64_t> raw_before;  // compressed bytes of the task's files before each position
  uint64_t raw_total() const { return raw_before.back(); }
};

Result<TaskInputs> list_task_inputs(const TokenizeConfig& cfg) {
  if (cfg.num_tasks == 0 || cfg.task >= cfg.num_tasks)
    return make_error(ErrorCode::kInvalidArgument, "--task {}/{}: expected 0 <= i < N", cfg.task, cfg.num_tasks);
  if (!cfg.corpus.domain_from_path.empty()) {
    try {
      std::regex re(cfg.corpus.domain_from_path);
    } catch (const std::regex_error& e) {
      return make_error(ErrorCode::kInvalidArgument, "--domain-from-path '{}' is not a valid regular expression: {}",
                        cfg.corpus.domain_from_path, e.what());
    }
  }
  TaskInputs in;
  LONGCTX_ASSIGN_OR_RETURN(in.files, list_corpus_files(cfg.corpus));
  in.mine = task_file_indices(in.files, cfg.task, cfg.num_tasks);
  in.raw_before.assign(in.mine.size() + 1, 0);
  for (size_t p = 0; p < in.mine.size(); ++p) in.raw_before[p + 1] = in.raw_before[p] + in.files.sizes[in.mine[p]];
  return in;
}

// Identifies a run's inputs and settings, so a checkpoint is only resumed by the same command.
std::string run_fingerprint(const TokenizeConfig& cfg, const TaskInputs& in, const Tokenizer& tok) {
  Xxh64Stream h;
  auto add = [&](const std::string& s) {
    h.update(s.data(), s.size());
    h.update("\0", 1);
  };
  for (uint32_t i : in.mine) add(in.files.relative[i] + "#" + std::to_string(in.files.sizes[i]));
  add(cfg.corpus.text_field);
  add(cfg.corpus.domain_field);
  add(cfg.corpus.domain_from_path);
  add(cfg.corpus.default_domain);
  add(cfg.corpus.skip_bad_records ? "skip" : "strict");
  add(hex64(tok.model_checksum()));
  add(fmt::format("{}/{}", cfg.task, cfg.num_tasks));
  return hex64(h.digest());
}

// Where the writing starts: an empty store, or the last checkpoint of an interrupted run with the
// partial files truncated to it and their prefixes verified against the checksums it recorded.
struct StartPoint {
  StoreWriter writer;
  uint32_t file_pos = 0;  // position in the task's file list
  uint64_t record = 0;    // last record consumed in that file (0: none)
  TokenizeSummary sum;    // counts so far
};

// The checkpoint (RunDir resume state) of a tokenize run.
nlohmann::json checkpoint_json(const StoreWriter& w, const TokenizeSummary& sum, uint32_t file_pos, uint64_t record) {
  const StorePrefix p = w.prefix();
  return {{"file_pos", file_pos},
          {"record", record},
          {"documents", w.num_docs()},
          {"tokens", w.num_tokens()},
          {"text_bytes", sum.text_bytes},
          {"domains", w.domains()},
          {"dropped", sum.dropped.to_json()},
          {"checksums", {{"tokens.bin.partial", hex64(p.tokens_xxh64)}, {"docs.bin.partial", hex64(p.docs_xxh64)}}}};
}

// kCorrupt: the checkpoint or the partial files cannot be trusted (the caller starts over).
Result<StartPoint> resume_from_checkpoint(const RunDir& run, uint32_t token_bytes) {
  const nlohmann::json& ck = run.state();
  StartPoint sp;
  StorePrefix prefix;
  try {
    prefix.num_tokens = ck.at("tokens").get<uint64_t>();
    prefix.num_docs = ck.at("documents").get<uint64_t>();
    prefix.tokens_xxh64 = std::stoull(ck.at("checksums").at("tokens.bin.partial").get<std::string>(), nullptr, 16);
    prefix.docs_xxh64 = std::stoull(ck.at("checksums").at("docs.bin.partial").get<std::string>(), nullptr, 16);
    sp.file_pos = ck.at("file_pos").get<uint32_t>();
    sp.record = ck.at("record").get<uint64_t>();
    sp.sum.text_bytes = ck.at("text_bytes").get<uint64_t>();
    sp.sum.dropped = BadRecordStats::from_json(ck.at("dropped"));
    LONGCTX_ASSIGN_OR_RETURN(sp.writer, StoreWriter::resume(run.dir(), token_bytes, prefix));
    sp.writer.set_domains(ck.at("domains").get<std::vector<std::string>>());
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}' is unreadable ({})", run.path("resume.json"), e.what());
  }
  sp.sum.documents = sp.sum.resumed_documents = sp.writer.num_docs();
  sp.sum.tokens = sp.writer.num_tokens();
  sp.sum.resumed = true;
  return sp;
}

Result<StartPoint> open_store_writer(RunDir& run, uint32_t token_bytes) {
  if (run.start() == RunDir::Start::kResume) {
    auto r = resume_from_checkpoint(run, token_bytes);
    if (r.is_ok() || r.status().code() != ErrorCode::kCorrupt) return r;
    LONGCTX_RETURN_IF_ERROR(run.start_over("cannot resume: " + r.status().message()));
  }
  StartPoint sp;
  LONGCTX_ASSIGN_OR_RETURN(sp.writer, StoreWriter::create(run.dir(), token_bytes));
  return sp;
}

// The same command already finished (its publish was completed on open): report the store.
Result<TokenizeSummary> summary_of_finished_store(const RunDir& run) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, read_json_file(run.path("manifest.json")));
  TokenizeSummary done;
  try {
    done.resumed = true;
    done.documents = done.resumed_documents = m.at("counts").at("documents").get<uint64_t>();
    done.tokens = m.at("counts").at("tokens").get<uint64_t>();
    done.text_bytes = m.at("counts").at("text_bytes").get<uint64_t>();
    done.dropped = BadRecordStats::from_json(m.at("dropped"));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}': {}", run.path("manifest.json"), e.what());
  }
  done.notes = run.notes();
  return done;
}

// The streaming pipeline of one run: reader threads -> tokenizer workers -> the calling thread,
// which writes batches in input order, records checkpoints and reports progress.
class TokenizeJob {
 public:
  TokenizeJob(const TokenizeConfig& cfg, const Tokenizer& tok, const TaskInputs& in, StartPoint& sp, RunDir& run,
              const ProgressFn& progress)
      : cfg_(cfg), tok_(tok), in_(in), sp_(sp), run_(run), progress_(progress),
        threads_(cfg.threads > 0 ? cfg.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        // Readers: one per ~4 tokenizer threads (zstd + JSON cost about a third of tokenizing with
        // the fast encoder), never more than there are files left.
        readers_(static_cast<int>(std::max<uint64_t>(
            1, std::min<uint64_t>(sp.file_pos < in.mine.size() ? in.mine.size() - sp.file_pos : 0,
                                  std::max(1, threads_ / 4))))),
        pipe_(readers_, std::max(2, (cfg.max_inflight > 0 ? cfg.max_inflight : 8 * threads_ + 2) / readers_),
              std::max<uint64_t>(cfg.batch_bytes, cfg.max_inflight_bytes / readers_)),
        next_file_(sp.file_pos) {}

  Status run() {
    std::vector<std::thread> threads;
    for (int r = 0; r < readers_; ++r) threads.emplace_back([this, r] { read_files(r); });
    for (int t = 0; t < threads_; ++t) threads.emplace_back([this] { tokenize_batches(); });
    Status st = write_in_order();
    pipe_.stop();  // done or failed: wake every reader and worker
    for (auto& t : threads) t.join();
    return st;
  }

 private:
  // Reader r: claims files in order and cuts each into batches of ~batch_bytes of text.
  void read_files(int r) {
    for (uint32_t p; (p = next_file_.fetch_add(1)) < in_.mine.size();) {
      uint64_t idx = 0, batch_text = 0;
      auto batch = std::make_unique<Batch>();
      CorpusFileReader rd(cfg_.corpus, in_.files, in_.mine[p], &batch->bad);
      auto flush = [&](bool last) -> bool {
        batch->file_pos = p;
        batch->idx = idx++;
        batch->file_last = last;
        batch->reader = r;
        batch->text_bytes = batch_text;
        if (last) {
          batch->end_file_pos = p + 1;
          batch->end_record = 0;
          batch->raw_bytes_done = in_.raw_before[p + 1];
        }
        auto next = std::make_unique<Batch>();
        bool ok = pipe_.push(std::move(batch));
        batch = std::move(next);
        batch_text = 0;
        rd.set_bad_record_sink(&batch->bad);
        return ok;
      };
      Status st;
      if (p == sp_.file_pos && sp_.record > 0) st = rd.skip_to_after(sp_.record);
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
        batch->raw_bytes_done = in_.raw_before[p] + rd.raw_bytes_read();
        batch->docs.push_back(std::move(doc));
        doc = Document();
        if (batch_text >= cfg_.batch_bytes && !flush(false)) return;
      }
      // The file's last batch carries a read error, if any, to the writer (which then stops).
      batch->error = st;
      if (!flush(true) || !st.is_ok()) return;
    }
  }

  // A worker: tokenizes whole batches.
  void tokenize_batches() {
    while (auto b = pipe_.take_work()) {
      b->tokens.resize(b->docs.size());
      for (size_t i = 0; i < b->docs.size() && b->error.is_ok(); ++i) {
        b->error = tok_.encode(b->docs[i].text, &b->tokens[i]);
        if (!b->error.is_ok())
          b->error = b->error.with_context(fmt::format("{}:{}", in_.files.paths[b->docs[i].file_index], b->docs[i].record));
      }
      pipe_.finish_work(std::move(b));
    }
  }

  // This thread: batches in input order (file, batch).
  Status write_in_order() {
    uint64_t since_ckpt = 0;
    for (uint32_t pos = sp_.file_pos, idx = 0; pos < in_.mine.size();) {
      auto b = pipe_.take_done(pos, idx);
      if (!b) break;
      const bool last_batch = b->file_last && pos + 1 == in_.mine.size();
      if (b->file_last) {
        ++pos;
        idx = 0;
      } else {
        ++idx;
      }
      LONGCTX_RETURN_IF_ERROR(b->error);
      LONGCTX_RETURN_IF_ERROR(write_batch(*b, &since_ckpt));
      if (since_ckpt >= cfg_.checkpoint_bytes && !last_batch) {
        // The checkpoint describes data on disk: fsync the partial files first.
        LONGCTX_RETURN_IF_ERROR(sp_.writer.sync());
        LONGCTX_RETURN_IF_ERROR(run_.checkpoint(checkpoint_json(sp_.writer, sp_.sum, b->end_file_pos, b->end_record)));
        ++checkpoints_;
        since_ckpt = 0;
      }
      report(*b, last_batch);
    }
    return Status::ok();
  }

  Status write_batch(const Batch& b, uint64_t* since_ckpt) {
    TokenizeSummary& sum = sp_.sum;
    StoreWriter& w = sp_.writer;
    sum.dropped.merge(b.bad);
    const uint32_t first_file = in_.mine.empty() ? 0 : in_.mine.front();
    for (size_t i = 0; i < b.docs.size(); ++i) {
      const Document& d = b.docs[i];
      auto dom = w.checked_domain_id(d.domain);
      if (!dom.is_ok()) return dom.status().with_context(fmt::format("{}:{}", in_.files.paths[d.file_index], d.record));
      LONGCTX_RETURN_IF_ERROR(w.add(b.tokens[i], d.id_hash, d.record, d.file_index - first_file, *dom, d.text.size()));
      sum.text_bytes += d.text.size();
      *since_ckpt += d.text.size();
    }
    sum.documents = w.num_docs();
    sum.tokens = w.num_tokens();
    return Status::ok();
  }

  void report(const Batch& b, bool final) {
    if (!progress_) return;
    ProgressSnapshot s;
    s.phase = "tokenize";
    s.docs = sp_.sum.documents;
    s.tokens = sp_.sum.tokens;
    s.bytes = b.raw_bytes_done;
    s.bytes_total = in_.raw_total();
    s.bytes_at_start = in_.raw_before[std::min<size_t>(sp_.file_pos, in_.mine.size())];
    s.tokens_at_start = resumed_tokens_;
    s.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    s.final = final;
    s.checkpoints = checkpoints_;
    progress_(s);
  }

  const TokenizeConfig& cfg_;
  const Tokenizer& tok_;
  const TaskInputs& in_;
  StartPoint& sp_;
  RunDir& run_;
  const ProgressFn& progress_;
  const int threads_;
  const int readers_;
  Pipeline pipe_;
  std::atomic<uint32_t> next_file_;
  const uint64_t resumed_tokens_ = sp_.sum.tokens;
  uint64_t checkpoints_ = 0;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

// The store's manifest (docs/store.md); StoreWriter::finalize adds format, counts, domains and checksums.
nlohmann::json store_manifest(const TokenizeConfig& cfg, const Tokenizer& tok, const TaskInputs& in,
                              const TokenizeSummary& sum) {
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
  for (uint32_t i : in.mine) fl.push_back({{"path", in.files.relative[i]}, {"bytes", in.files.sizes[i]}});
  manifest["files"] = fl;
  manifest["task"] = {{"index", cfg.task}, {"count", cfg.num_tasks}};
  manifest["dropped"] = sum.dropped.to_json();
  manifest["counts"]["text_bytes"] = sum.text_bytes;
  return manifest;
}

}  // namespace

// Stages: list the task's inputs -> open the run directory (kind, lock, fingerprint, resume) ->
// open the store writer (fresh, or resumed and verified) -> stream -> publish manifest-last.
Result<TokenizeSummary> tokenize_corpus(const TokenizeConfig& cfg, const Tokenizer& tok, const ProgressFn& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  LONGCTX_ASSIGN_OR_RETURN(TaskInputs in, list_task_inputs(cfg));
  LONGCTX_ASSIGN_OR_RETURN(
      RunDir run, RunDir::open({cfg.out_dir, &kinds::kDocumentStore, run_fingerprint(cfg, in, tok), cfg.overwrite}));
  if (run.start() == RunDir::Start::kAlreadyDone) return summary_of_finished_store(run);
  auto sp = open_store_writer(run, token_bytes_for_vocab(tok.vocab_size()));
  if (!sp.is_ok()) return run.fail(sp.status());
  Status st = TokenizeJob(cfg, tok, in, *sp, run, progress).run();
  if (st.is_ok()) {
    auto manifest = sp->writer.finalize(store_manifest(cfg, tok, in, sp->sum));
    st = manifest.is_ok() ? run.publish(*manifest) : manifest.status();
  }
  if (!st.is_ok()) return run.fail(st);
  TokenizeSummary sum = sp->sum;
  sum.notes = run.notes();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace longctx
