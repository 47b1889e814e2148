#include "model/checkpoint.h"

#include <map>
#include <set>

#include "core/file_io.h"
#include "core/json_util.h"

namespace longctx::model {

namespace {
std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}
// Buffers that older HF checkpoints carry and that are not parameters.
bool ignorable(const std::string& name) {
  return name.ends_with(".rotary_emb.inv_freq");
}
}  // namespace

Result<LlamaModel> load_checkpoint(const std::string& dir) {
  LONGCTX_ASSIGN_OR_RETURN(LlamaConfig cfg, read_config(dir + "/config.json"));
  LONGCTX_ASSIGN_OR_RETURN(LlamaModel m, LlamaModel::create(cfg));
  std::vector<SafetensorsFile> files;
  std::map<std::string, size_t> where;  // tensor name -> file
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (file_exists(index_path)) {
    LONGCTX_ASSIGN_OR_RETURN(nlohmann::json idx, read_json_file(index_path));
    auto wm = idx.find("weight_map");
    if (wm == idx.end() || !wm->is_object())
      return make_error(ErrorCode::kCorrupt, "{}: missing object 'weight_map'", index_path);
    std::map<std::string, size_t> file_ids;
    for (auto it = wm->begin(); it != wm->end(); ++it) {
      if (!it.value().is_string())
        return make_error(ErrorCode::kCorrupt, "{}: weight_map['{}'] is not a file name", index_path, it.key());
      const std::string fname = it.value().get<std::string>();
      if (!file_ids.count(fname)) {
        LONGCTX_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(dir + "/" + fname));
        file_ids[fname] = files.size();
        files.push_back(std::move(f));
      }
      where[it.key()] = file_ids[fname];
    }
    // every tensor a shard holds must be listed, and where the index says
    for (size_t fi = 0; fi < files.size(); fi++)
      for (const TensorInfo& t : files[fi].header().tensors) {
        auto w = where.find(t.name);
        if (w == where.end() || w->second != fi)
          return make_error(ErrorCode::kCorrupt, "{}: tensor '{}' is not mapped to this file by {}",
                            files[fi].path(), t.name, index_path);
      }
  } else {
    LONGCTX_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::open(dir + "/model.safetensors"));
    for (const TensorInfo& t : f.header().tensors) where[t.name] = 0;
    files.push_back(std::move(f));
  }
  std::set<std::string> expected;
  for (const ParamTensor& p : m.layout().tensors) {
    expected.insert(p.name);
    auto w = where.find(p.name);
    if (w == where.end())
      return make_error(ErrorCode::kNotFound, "{}: tensor '{}' (shape {}) is missing", dir, p.name,
                        shape_str(p.shape));
    const SafetensorsFile& f = files[w->second];
    const TensorInfo* t = f.find(p.name);
    if (!t)
      return make_error(ErrorCode::kCorrupt, "{}: tensor '{}' is listed in the index but not in the file",
                        f.path(), p.name);
    if (t->shape != p.shape)
      return make_error(ErrorCode::kCorrupt, "{}: tensor '{}' has shape {}, config.json implies {}",
                        f.path(), p.name, shape_str(t->shape), shape_str(p.shape));
    LONGCTX_RETURN_IF_ERROR(f.read_f32(*t, m.params() + p.offset));
  }
  for (const auto& [name, fi] : where) {
    if (expected.count(name) || ignorable(name)) continue;
    if (name == "lm_head.weight" && cfg.tie_word_embeddings) continue;  // some tied exports keep it
    return make_error(ErrorCode::kCorrupt, "{}: unexpected tensor '{}' (not part of a LLaMA model with this config)",
                      files[fi].path(), name);
  }
  return m;
}

Status save_checkpoint(const LlamaModel& m, const std::string& dir, const SaveOptions& opt) {
  LONGCTX_RETURN_IF_ERROR(make_dirs(dir));
  LlamaConfig cfg = m.config();
  cfg.torch_dtype = opt.dtype == DType::kF32 ? "float32" : opt.dtype == DType::kF16 ? "float16" : "bfloat16";
  // config.json is written last (the folder's manifest, docs/architecture.md "Run lifecycle"): a
  // save killed half-way leaves no config.json, so the folder is never loaded half-written.
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(dir + "/config.json"));
  const std::map<std::string, std::string> meta = {{"format", "pt"}};
  std::vector<std::vector<TensorToWrite>> shards(1);
  uint64_t shard_bytes = 0, total_bytes = 0;
  for (const ParamTensor& p : m.layout().tensors) {
    const uint64_t bytes = (uint64_t)p.numel() * dtype_size(opt.dtype);
    if (opt.max_shard_bytes > 0 && shard_bytes > 0 && shard_bytes + bytes > opt.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back({p.name, p.shape, m.params() + p.offset});
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  if (opt.max_shard_bytes == 0) {
    LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(dir + "/model.safetensors.index.json"));
    LONGCTX_RETURN_IF_ERROR(write_safetensors(dir + "/model.safetensors", shards[0], opt.dtype, meta));
    return write_config(dir + "/config.json", cfg);
  }
  nlohmann::json index;
  index["metadata"] = {{"total_size", total_bytes}};
  nlohmann::json wm = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); i++) {
    const std::string fname = fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards.size());
    LONGCTX_RETURN_IF_ERROR(write_safetensors(dir + "/" + fname, shards[i], opt.dtype, meta));
    for (const TensorToWrite& t : shards[i]) wm[t.name] = fname;
  }
  index["weight_map"] = wm;
  LONGCTX_RETURN_IF_ERROR(remove_file_if_exists(dir + "/model.safetensors"));
  LONGCTX_RETURN_IF_ERROR(write_json_atomic(dir + "/model.safetensors.index.json", index));
  return write_config(dir + "/config.json", cfg);
}

}  // namespace longctx::model
