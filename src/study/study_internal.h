// Pieces shared by the files of the study library (not part of its interface).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "study/stage.h"
#include "study/study.h"

namespace longctx::study {

// A word for a POSIX shell: as it is when it has only safe characters, else in single quotes.
std::string shell_quote(std::string_view word);
std::string shell_join(const std::vector<std::string>& words);
// A path inside the study directory as the equivalent commands show it: "<dir>/<rel>", quoted.
std::string dir_arg(const std::string& dir, std::string_view rel);

// Where the study's tokenizer is: the given one, or the trained one in the study directory.
std::string tokenizer_path(const StudyConfig& c, const std::string& dir);

// The stages in list order (study_stages.cc, study_slots.cc).
std::vector<Stage> corpus_stages(const StudyConfig& c, const std::string& dir);
std::vector<Stage> store_and_mix_stages(const StudyConfig& c, const std::string& dir);
std::vector<Stage> training_stages(const StudyConfig& c, const std::string& dir);
std::vector<Stage> evaluation_stages(const StudyConfig& c, const std::string& dir);

}  // namespace longctx::study
