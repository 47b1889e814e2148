#include "study/study_mix.h"

#include <fmt/format.h>

#include "core/validate.h"

namespace longctx::study {
namespace {

using nlohmann::json;

// The option keys each strategy takes (docs/mixing.md "Strategies"), as the `longctx mix` flags
// of the same names with '_' for '-'.
const std::vector<std::string>& option_keys(MixStrategy s) {
  static const std::vector<std::string> kNone, kCut{"at"}, kNatural{"max_doc"}, kPerSource{"long_share"},
      kGlobal{"keep_short"}, kDomains{"domains", "weight"}, kPaper{"keep_short", "chars_per_token"};
  switch (s) {
    case MixStrategy::kOriginal: return kNone;
    case MixStrategy::kCut: return kCut;
    case MixStrategy::kNatural: return kNatural;
    case MixStrategy::kPerSourceUpsample: return kPerSource;
    case MixStrategy::kGlobalUpsample: return kGlobal;
    case MixStrategy::kUpsampleDomains: return kDomains;
    case MixStrategy::kPaperScript: return kPaper;
  }
  return kNone;
}

template <typename T>
Status option(const json& o, const std::string& field, const char* key, T* out) {
  if (!o.contains(key)) return Status::ok();
  const json& v = o.at(key);
  bool ok = false;
  if constexpr (std::is_same_v<T, double>) ok = v.is_number();
  else if constexpr (std::is_same_v<T, uint64_t>) ok = v.is_number_unsigned();
  else ok = v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
  if (!ok) return make_error(ErrorCode::kInvalidArgument, "{}.{}: wrong type ({})", field, key, v.dump());
  *out = v.get<T>();
  return Status::ok();
}

}  // namespace

Result<MixConfig> study_mix_config(const StudyConfig& c, const MixtureSpec& m, const std::string& field) {
  MixConfig mix;
  auto strategy = parse_mix_strategy(m.strategy);
  if (!strategy.is_ok()) return strategy.status().with_context(field + ".strategy");
  mix.strategy = *strategy;
  mix.total_tokens = c.tokens(m);
  mix.seq_len = c.seq_len(m);
  mix.seed = c.seed;
  mix.long_threshold = c.short_context;
  mix.cut_at = c.short_context;
  const std::string f = field + ".options";
  const auto& keys = option_keys(mix.strategy);
  for (auto it = m.options.begin(); it != m.options.end(); ++it) {
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) {
      return make_error(ErrorCode::kInvalidArgument, "{}.{}: not an option of strategy {} (its options: {})", f, it.key(),
                        m.strategy, keys.empty() ? std::string("none") : fmt::format("{}", fmt::join(keys, ", ")));
    }
  }
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "at", &mix.cut_at));
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "max_doc", &mix.max_doc));
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "long_share", &mix.long_share));
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "keep_short", &mix.keep_short));
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "domains", &mix.upsample_domains));
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "weight", &mix.upsample_weight));
  LONGCTX_RETURN_IF_ERROR(option(m.options, f, "chars_per_token", &mix.paper_chars_per_token));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".at", mix.cut_at, uint64_t{1}, uint64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".max_doc", mix.max_doc, uint64_t{1}, uint64_t{UINT32_MAX}));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".long_share", mix.long_share, 0.0, 1.0));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".keep_short", mix.keep_short, 0.0, 1.0));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".weight", mix.upsample_weight, 0.0, 1.0));
  LONGCTX_RETURN_IF_ERROR(check_range(f + ".chars_per_token", mix.paper_chars_per_token, 0.0, 1000.0));
  if (mix.strategy == MixStrategy::kUpsampleDomains && mix.upsample_domains.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "{}.domains: name at least one domain", f);
  }
  return mix;
}

Status with_store_tokens(const nlohmann::json& store_manifest, MixConfig* mix) {
  const json tok = store_manifest.value("tokenizer", json::object());
  const json bos = tok.value("bos_id", json(1));
  if (!bos.is_number_integer() || bos.get<int64_t>() < 0 || bos.get<int64_t>() > UINT32_MAX) {
    return make_error(ErrorCode::kInvalidArgument, "the store's tokenizer has no BOS token ({}); the study packs with BOS",
                      bos.dump());
  }
  mix->bos = true;
  mix->bos_id = static_cast<uint32_t>(bos.get<int64_t>());
  return Status::ok();
}

std::string mix_command_flags(const MixConfig& mix) {
  std::string s = fmt::format("--strategy {}", mix_strategy_name(mix.strategy));
  switch (mix.strategy) {
    case MixStrategy::kCut: s += fmt::format(" --at {}", mix.cut_at); break;
    case MixStrategy::kNatural: s += fmt::format(" --max-doc {}", mix.max_doc); break;
    case MixStrategy::kPerSourceUpsample: s += fmt::format(" --long-share {}", mix.long_share); break;
    case MixStrategy::kGlobalUpsample: s += fmt::format(" --keep-short {}", mix.keep_short); break;
    case MixStrategy::kUpsampleDomains:
      s += fmt::format(" --domains {} --weight {}", fmt::join(mix.upsample_domains, ","), mix.upsample_weight);
      break;
    case MixStrategy::kPaperScript:
      s += fmt::format(" --keep-short {} --chars-per-token {}", mix.keep_short, mix.paper_chars_per_token);
      break;
    case MixStrategy::kOriginal: break;
  }
  s += fmt::format(" --tokens {} --seq-len {} --long-threshold {} --seed {}", mix.total_tokens, mix.seq_len,
                   mix.long_threshold, mix.seed);
  return s;
}

}  // namespace longctx::study
