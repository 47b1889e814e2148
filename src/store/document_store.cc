#include "store/document_store.h"

#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "corpus/corpus_reader.h"

#include "core/hash.h"
#include "core/json_util.h"
#include "core/run_dir.h"
#include "store/token_reader.h"

namespace longctx {
namespace {

Status check_header(const MappedFile& m, const char* magic, const std::string& path, StoreHeader* h) {
  if (m.size() < kStoreHeaderBytes)
    return make_error(ErrorCode::kCorrupt, "'{}': expected a {}-byte header, found a {}-byte file", path,
                      kStoreHeaderBytes, m.size());
  std::memcpy(h, m.data(), sizeof *h);
  if (std::memcmp(h->magic, magic, 8) != 0)
    return make_error(ErrorCode::kCorrupt, "'{}': bad magic: expected '{}', found '{}'", path, std::string(magic, 8),
                      std::string(h->magic, 8));
  if (h->version != kStoreVersion)
    return make_error(ErrorCode::kUnsupported, "'{}': format version {} is not supported (expected {})", path,
                      h->version, kStoreVersion);
  if (h->item_bytes == 0 || h->count > (m.size() - kStoreHeaderBytes) / h->item_bytes)
    return make_error(ErrorCode::kCorrupt, "'{}': header says {} items of {} bytes, the file has only {} bytes", path,
                      h->count, h->item_bytes, m.size());
  uint64_t need = kStoreHeaderBytes + h->count * h->item_bytes;
  if (m.size() != need)
    return make_error(ErrorCode::kCorrupt, "'{}': header says {} items of {} bytes ({} bytes), file has {} bytes", path,
                      h->count, h->item_bytes, need, m.size());
  return Status::ok();
}

StoreHeader make_header(const char* magic, uint32_t item_bytes, uint64_t count) {
  StoreHeader h{};
  std::memcpy(h.magic, magic, 8);
  h.version = kStoreVersion;
  h.item_bytes = item_bytes;
  h.count = count;
  return h;
}

}  // namespace

// ---------------- DocumentStore ----------------
Result<DocumentStore> DocumentStore::open(const std::string& dir) {
  DocumentStore s;
  s.dir_ = dir;
  std::string mpath = dir + "/manifest.json";
  if (!file_exists(mpath)) {
    if (file_exists(dir + "/tokens.bin.partial"))
      return make_error(ErrorCode::kCorrupt, "'{}' is an unfinished store ({})", dir, describe_unfinished_run(dir));
    return make_error(ErrorCode::kNotFound, "'{}' is not a document store: no manifest.json", dir);
  }
  LONGCTX_ASSIGN_OR_RETURN(s.manifest_, read_json_file(mpath));
  LONGCTX_ASSIGN_OR_RETURN(s.tok_map_, MappedFile::open(dir + "/tokens.bin"));
  LONGCTX_ASSIGN_OR_RETURN(s.doc_map_, MappedFile::open(dir + "/docs.bin"));
  StoreHeader th, dh;
  LONGCTX_RETURN_IF_ERROR(check_header(s.tok_map_, kTokensMagic, dir + "/tokens.bin", &th));
  LONGCTX_RETURN_IF_ERROR(check_header(s.doc_map_, kDocsMagic, dir + "/docs.bin", &dh));
  if (th.item_bytes != 2 && th.item_bytes != 4)
    return make_error(ErrorCode::kCorrupt, "'{}/tokens.bin': token width {} (expected 2 or 4)", dir, th.item_bytes);
  if (dh.item_bytes != sizeof(DocRecord))
    return make_error(ErrorCode::kCorrupt, "'{}/docs.bin': record size {} (expected {})", dir, dh.item_bytes, sizeof(DocRecord));
  s.token_bytes_ = th.item_bytes;
  s.num_tokens_ = th.count;
  s.tokens_ = s.tok_map_.data() + kStoreHeaderBytes;
  s.docs_ = {reinterpret_cast<const DocRecord*>(s.doc_map_.data() + kStoreHeaderBytes), dh.count};
  try {
    for (const auto& d : s.manifest_.at("domains")) s.domains_.push_back(d.get<std::string>());
    for (const auto& f : s.manifest_.at("files")) s.files_.push_back(f.at("path").get<std::string>());
    if (s.manifest_.contains("tokenizer")) s.vocab_size_ = s.manifest_.at("tokenizer").value("vocab_size", uint64_t{0});
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kCorrupt, "'{}': manifest lacks domains/files or has a bad tokenizer.vocab_size: {}", mpath, e.what());
  }
  LONGCTX_RETURN_IF_ERROR(s.check_document_table());
  return s;
}

// One sequential pass over docs.bin: the structure of every record (so readers may index without
// checks) and, in the same pass, the file's checksum against the manifest.
Status DocumentStore::check_document_table() {
  const std::string& dir = dir_;
  Xxh64Stream hash;
  hash.update(doc_map_.data(), kStoreHeaderBytes);
  constexpr size_t kBlock = 1 << 14;  // records hashed per step: 640 KB, still in cache when checked
  uint64_t expect = 0;
  for (size_t b = 0; b < docs_.size(); b += kBlock) {
    const size_t e = std::min(docs_.size(), b + kBlock);
    hash.update(docs_.data() + b, (e - b) * sizeof(DocRecord));
    for (size_t i = b; i < e; ++i) {
      const DocRecord& d = docs_[i];
      if (d.token_offset != expect || d.domain >= domains_.size() || d.file_index >= files_.size())
        return make_error(ErrorCode::kCorrupt,
                          "'{}/docs.bin': record {} is inconsistent (offset {} expected {}, domain {} of {}, file {} of {}); "
                          "the store is damaged", dir, i, d.token_offset, expect, d.domain, domains_.size(), d.file_index,
                          files_.size());
      expect += d.num_tokens;
    }
  }
  if (expect != num_tokens_)
    return make_error(ErrorCode::kCorrupt, "'{}': documents hold {} tokens, tokens.bin has {}", dir, expect, num_tokens_);
  docs_checksum_ = hash.digest();
  const std::string want = manifest_checksum("docs.bin");
  if (!want.empty() && hex64(docs_checksum_) != want)
    return make_error(ErrorCode::kCorrupt, "'{}/docs.bin': checksum {} does not match the manifest's {}; the store is damaged", dir,
                      hex64(docs_checksum_), want);
  return Status::ok();
}

std::string DocumentStore::manifest_checksum(const std::string& file) const {
  auto it = manifest_.find("checksums");
  if (it == manifest_.end() || !it->is_object()) return "";
  auto f = it->find(file);
  return f != it->end() && f->is_string() ? f->get<std::string>() : "";
}

Status DocumentStore::tokens(size_t i, std::vector<uint32_t>* out) const {
  const DocRecord& d = docs_[i];
  out->resize(d.num_tokens);
  if (token_bytes_ == 2) {
    const uint8_t* p = tokens_ + d.token_offset * 2;
    for (uint32_t k = 0; k < d.num_tokens; ++k) {
      uint16_t v;
      std::memcpy(&v, p + 2 * k, 2);
      (*out)[k] = v;
    }
  } else {
    std::memcpy(out->data(), tokens_ + d.token_offset * 4, size_t{d.num_tokens} * 4);
  }
  return check_token_ids(out->data(), out->size(), vocab_size_, [&](uint64_t k) {
    return fmt::format("'{}/tokens.bin': document {} token {}", dir_, i, k);
  });
}

Status DocumentStore::verify() const {
  // The document table (structure and checksum) was checked by open().
  LONGCTX_RETURN_IF_ERROR(verify_store_tokens(*this).status());
  if (manifest_.contains("counts")) {
    if (manifest_["counts"].value("documents", uint64_t{0}) != docs_.size() ||
        manifest_["counts"].value("tokens", uint64_t{0}) != num_tokens_)
      return make_error(ErrorCode::kCorrupt, "'{}': manifest counts differ from the data files", dir_);
  }
  return Status::ok();
}

// ---------------- StoreWriter ----------------
namespace {

// Streams the first `bytes` bytes of `path` through `h`; kCorrupt when the file is shorter.
Status hash_prefix(const std::string& path, uint64_t bytes, Xxh64Stream* h) {
  if (path_type(path) != PathType::kRegular) return make_error(ErrorCode::kCorrupt, "'{}' is missing or not a regular file", path);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return make_error(ErrorCode::kCorrupt, "'{}' is missing", path);
  std::vector<char> buf(1 << 20);
  uint64_t left = bytes;
  while (left > 0) {
    size_t n = std::fread(buf.data(), 1, std::min<uint64_t>(left, buf.size()), f);
    if (n == 0) break;
    h->update(buf.data(), n);
    left -= n;
  }
  bool err = std::ferror(f);
  std::fclose(f);
  if (err) return make_error(ErrorCode::kIo, "cannot read '{}'", path);
  if (left > 0) return make_error(ErrorCode::kCorrupt, "'{}' has {} bytes, the checkpoint needs {}", path, bytes - left, bytes);
  return Status::ok();
}

// One pass over a finished partial file: checks that its bytes are the ones written (xxh64
// `written`), computes the checksum it will have with its final header, then writes that header
// in place. Returns the final checksum.
Result<uint64_t> seal_partial_file(const std::string& path, const StoreHeader& hdr, uint64_t written) {
  LONGCTX_ASSIGN_OR_RETURN(std::FILE* f, open_file_for_writing(path, "r+b"));
  Xxh64Stream on_disk, final_sum;
  std::vector<char> buf(1 << 20);
  bool first = true, ok = true;
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), f)) > 0; first = false) {
    on_disk.update(buf.data(), n);
    if (first && n >= sizeof hdr) std::memcpy(buf.data(), &hdr, sizeof hdr);
    final_sum.update(buf.data(), n);
  }
  ok = !std::ferror(f) && !first;
  ok = ok && std::fseek(f, 0, SEEK_SET) == 0 && std::fwrite(&hdr, sizeof hdr, 1, f) == 1;
  ok = (std::fflush(f) == 0) && ok;
  ok = (::fsync(fileno(f)) == 0) && ok;
  std::fclose(f);
  if (!ok) return make_error(ErrorCode::kIo, "cannot read or update the header of '{}'", path);
  if (on_disk.digest() != written)
    return make_error(ErrorCode::kCorrupt, "'{}' changed on disk while it was written (xxh64 {}, expected {})", path,
                      hex64(on_disk.digest()), hex64(written));
  return final_sum.digest();
}

}  // namespace

Result<StoreWriter> StoreWriter::create(const std::string& dir, uint32_t token_bytes) {
  LONGCTX_RETURN_IF_ERROR(make_dirs(dir));
  StoreWriter w;
  w.dir_ = dir;
  w.token_bytes_ = token_bytes;
  w.tok_hash_ = std::make_unique<Xxh64Stream>();
  w.doc_hash_ = std::make_unique<Xxh64Stream>();
  LONGCTX_ASSIGN_OR_RETURN(w.tok_, FileWriter::open(dir + "/tokens.bin.partial", "wb"));
  LONGCTX_ASSIGN_OR_RETURN(w.doc_, FileWriter::open(dir + "/docs.bin.partial", "wb"));
  StoreHeader th = make_header(kTokensMagic, token_bytes, 0), dh = make_header(kDocsMagic, sizeof(DocRecord), 0);
  LONGCTX_RETURN_IF_ERROR(w.tok_.write_pod(th));
  LONGCTX_RETURN_IF_ERROR(w.doc_.write_pod(dh));
  w.tok_hash_->update(&th, sizeof th);
  w.doc_hash_->update(&dh, sizeof dh);
  return w;
}

Result<StoreWriter> StoreWriter::resume(const std::string& dir, uint32_t token_bytes, const StorePrefix& prefix) {
  StoreWriter w;
  w.dir_ = dir;
  w.token_bytes_ = token_bytes;
  w.tok_hash_ = std::make_unique<Xxh64Stream>();
  w.doc_hash_ = std::make_unique<Xxh64Stream>();
  struct Part {
    const char* name;
    uint64_t bytes, want;
    Xxh64Stream* h;
  };
  const Part parts[] = {{"/tokens.bin.partial", kStoreHeaderBytes + prefix.num_tokens * token_bytes, prefix.tokens_xxh64, w.tok_hash_.get()},
                        {"/docs.bin.partial", kStoreHeaderBytes + prefix.num_docs * sizeof(DocRecord), prefix.docs_xxh64, w.doc_hash_.get()}};
  for (const Part& p : parts) {
    const std::string path = dir + p.name;
    LONGCTX_RETURN_IF_ERROR(hash_prefix(path, p.bytes, p.h));
    if (p.h->digest() != p.want)
      return make_error(ErrorCode::kCorrupt, "'{}' does not match its checkpoint (xxh64 of its first {} bytes is {}, "
                        "the checkpoint recorded {})", path, p.bytes, hex64(p.h->digest()), hex64(p.want));
    if (::truncate(path.c_str(), static_cast<off_t>(p.bytes)) != 0)
      return make_error(ErrorCode::kIo, "cannot truncate '{}' to resume", path);
  }
  LONGCTX_ASSIGN_OR_RETURN(w.tok_, FileWriter::open(dir + "/tokens.bin.partial", "ab"));
  LONGCTX_ASSIGN_OR_RETURN(w.doc_, FileWriter::open(dir + "/docs.bin.partial", "ab"));
  w.num_tokens_ = prefix.num_tokens;
  w.num_docs_ = prefix.num_docs;
  return w;
}

StorePrefix StoreWriter::prefix() const {
  return {num_tokens_, num_docs_, tok_hash_ ? tok_hash_->digest() : 0, doc_hash_ ? doc_hash_->digest() : 0};
}

uint16_t StoreWriter::domain_id(const std::string& name) {
  auto r = checked_domain_id(name);
  return r.is_ok() ? *r : 0;
}

Result<uint16_t> StoreWriter::checked_domain_id(const std::string& name) {
  if (domain_index_.size() != domains_.size()) {  // after set_domains()
    domain_index_.clear();
    for (size_t i = 0; i < domains_.size(); ++i) domain_index_[domains_[i]] = static_cast<uint16_t>(i);
  }
  auto it = domain_index_.find(name);
  if (it != domain_index_.end()) return it->second;
  if (domains_.size() >= 65536)
    return make_error(ErrorCode::kUnsupported, "more than 65,536 domains (at '{}'): a store's domain ids are 16-bit; "
                      "check --domain-field / --domain-from-path", name);
  domains_.push_back(name);
  domain_index_[name] = static_cast<uint16_t>(domains_.size() - 1);
  return static_cast<uint16_t>(domains_.size() - 1);
}

Status StoreWriter::add(std::span<const uint32_t> tokens, uint64_t id_hash, uint64_t record, uint32_t file_index,
                        uint16_t domain, uint64_t text_bytes) {
  if (tokens.size() > UINT32_MAX)
    return make_error(ErrorCode::kUnsupported, "document of {} tokens exceeds the store's 2^32-1 limit", tokens.size());
  DocRecord r{};
  r.token_offset = num_tokens_;
  r.id_hash = id_hash;
  r.record = record;
  r.num_tokens = static_cast<uint32_t>(tokens.size());
  r.file_index = file_index;
  r.domain = domain;
  r.text_bytes = static_cast<uint32_t>(std::min<uint64_t>(text_bytes, UINT32_MAX));
  if (token_bytes_ == 2) {
    buf16_.resize(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (tokens[i] > 0xFFFF)
        return make_error(ErrorCode::kInvalidArgument, "token id {} does not fit the store's uint16 tokens", tokens[i]);
      buf16_[i] = static_cast<uint16_t>(tokens[i]);
    }
    LONGCTX_RETURN_IF_ERROR(tok_.write(buf16_.data(), buf16_.size() * 2));
    tok_hash_->update(buf16_.data(), buf16_.size() * 2);
  } else {
    LONGCTX_RETURN_IF_ERROR(tok_.write(tokens.data(), tokens.size() * 4));
    tok_hash_->update(tokens.data(), tokens.size() * 4);
  }
  LONGCTX_RETURN_IF_ERROR(doc_.write_pod(r));
  doc_hash_->update(&r, sizeof r);
  num_tokens_ += tokens.size();
  ++num_docs_;
  return Status::ok();
}

Status StoreWriter::sync() {
  LONGCTX_RETURN_IF_ERROR(tok_.sync());
  return doc_.sync();
}

Result<nlohmann::json> StoreWriter::finalize(nlohmann::json manifest) {
  LONGCTX_RETURN_IF_ERROR(tok_.close());
  LONGCTX_RETURN_IF_ERROR(doc_.close());
  LONGCTX_ASSIGN_OR_RETURN(uint64_t tsum, seal_partial_file(dir_ + "/tokens.bin.partial",
                                                            make_header(kTokensMagic, token_bytes_, num_tokens_), tok_hash_->digest()));
  LONGCTX_ASSIGN_OR_RETURN(uint64_t dsum, seal_partial_file(dir_ + "/docs.bin.partial",
                                                            make_header(kDocsMagic, sizeof(DocRecord), num_docs_), doc_hash_->digest()));
  manifest["format"] = {{"name", "longctx-document-store"}, {"version", kStoreVersion}, {"token_bytes", token_bytes_}};
  manifest["domains"] = domains_;
  manifest["counts"]["documents"] = num_docs_;
  manifest["counts"]["tokens"] = num_tokens_;
  manifest["checksums"] = {{"tokens.bin", hex64(tsum)}, {"docs.bin", hex64(dsum)}};
  return manifest;
}

Status StoreWriter::finish(nlohmann::json manifest) {
  LONGCTX_ASSIGN_OR_RETURN(nlohmann::json m, finalize(std::move(manifest)));
  return publish_manifest_last(dir_, kinds::kDocumentStore.published, kinds::kDocumentStore.manifest, m);
}

Result<bool> complete_interrupted_publish(const std::string& dir) {
  return complete_publish(dir, kinds::kDocumentStore.published, kinds::kDocumentStore.manifest);
}

// ---------------- merge ----------------
namespace {

// Concatenates the stores' documents into a new store in `out_dir`; returns its manifest.
Result<nlohmann::json> write_merged_store(const std::vector<DocumentStore>& stores, const std::string& out_dir) {
  LONGCTX_ASSIGN_OR_RETURN(StoreWriter w, StoreWriter::create(out_dir, stores[0].token_bytes()));
  nlohmann::json files = nlohmann::json::array();
  BadRecordStats dropped;  // merged in task order: the same counts and first examples as one run
  uint64_t text_bytes = 0;
  std::vector<uint32_t> toks;
  for (const auto& s : stores) {
    uint32_t file_base = static_cast<uint32_t>(files.size());
    for (const auto& f : s.manifest()["files"]) files.push_back(f);
    std::vector<uint16_t> remap;
    for (const auto& d : s.domains()) {
      LONGCTX_ASSIGN_OR_RETURN(uint16_t id, w.checked_domain_id(d));
      remap.push_back(id);
    }
    LONGCTX_ASSIGN_OR_RETURN(TokenStream in, TokenStream::open(s));
    for (size_t i = 0; i < s.num_docs(); ++i) {
      const auto& d = s.doc(i);
      toks.resize(d.num_tokens);
      LONGCTX_RETURN_IF_ERROR(in.read(d.num_tokens, toks.data()).with_context("merge input"));
      LONGCTX_RETURN_IF_ERROR(w.add(toks, d.id_hash, d.record, d.file_index + file_base, remap[d.domain], d.text_bytes));
    }
    // Before anything is published: the input's tokens were what its manifest says.
    LONGCTX_RETURN_IF_ERROR(in.finish().status().with_context("merge input"));
    const auto& m = s.manifest();
    if (m.contains("dropped")) dropped.merge(BadRecordStats::from_json(m["dropped"]));
    text_bytes += m.value("/counts/text_bytes"_json_pointer, uint64_t{0});
  }
  const auto& m0 = stores[0].manifest();
  nlohmann::json manifest = nlohmann::json::object();
  manifest["tokenizer"] = m0.value("tokenizer", nlohmann::json::object());
  manifest["corpus"] = m0.value("corpus", nlohmann::json::object());
  manifest["files"] = files;
  manifest["merged_from"] = stores.size();
  manifest["dropped"] = dropped.to_json();
  manifest["counts"]["text_bytes"] = text_bytes;
  return w.finalize(manifest);
}

}  // namespace

Status merge_stores(const std::vector<std::string>& inputs, const std::string& out_dir, bool overwrite) {
  if (inputs.empty()) return make_error(ErrorCode::kInvalidArgument, "store merge needs at least one input store");
  std::error_code ec;
  for (const auto& in : inputs) {
    if (std::filesystem::exists(out_dir, ec) && std::filesystem::equivalent(in, out_dir, ec))
      return make_error(ErrorCode::kInvalidArgument, "store merge: the output '{}' is also an input", out_dir);
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (std::filesystem::equivalent(inputs[i], inputs[j], ec))
        return make_error(ErrorCode::kInvalidArgument, "store merge: '{}' is given twice", inputs[i]);
  std::vector<DocumentStore> stores;
  nlohmann::json fingerprint = nlohmann::json::array();
  for (const auto& in : inputs) {
    // open() checks docs.bin; tokens.bin is checked as it is copied (checksum and ids), before
    // anything is published.
    LONGCTX_ASSIGN_OR_RETURN(DocumentStore s, DocumentStore::open(in));
    fingerprint.push_back(s.manifest().value("checksums", nlohmann::json::object()));
    stores.push_back(std::move(s));
  }
  const auto& m0 = stores[0].manifest();
  for (size_t i = 1; i < stores.size(); ++i) {
    const auto& m = stores[i].manifest();
    if (m.value("/tokenizer/checksum"_json_pointer, std::string()) != m0.value("/tokenizer/checksum"_json_pointer, std::string()))
      return make_error(ErrorCode::kInvalidArgument, "cannot merge '{}' and '{}': they were made with different tokenizers",
                        inputs[0], inputs[i]);
    if (stores[i].token_bytes() != stores[0].token_bytes())
      return make_error(ErrorCode::kInvalidArgument, "cannot merge '{}': token width differs", inputs[i]);
  }
  LONGCTX_ASSIGN_OR_RETURN(
      RunDir run, RunDir::open({out_dir, &kinds::kDocumentStore, fingerprint, overwrite, /*resumable=*/false}));
  auto manifest = write_merged_store(stores, out_dir);
  if (!manifest.is_ok()) return run.fail(manifest.status());
  return run.fail(run.publish(*manifest));
}

}  // namespace longctx
