// Finding the files of a corpus: files, directories (recursive) and globs, with symbolic links
// followed, as docs/corpus.md "Input formats" describes. A directory link that leads back to one
// of its own ancestors (a cycle, recognised by device and inode) and a link that leads nowhere are
// not errors here: they are listed with a `problem`, so that the corpus reader reports them as bad
// records where they stand in the file order (an error, or skipped and counted with
// --skip-bad-records), like any other unreadable file.
#pragma once
#include <string>
#include <vector>

#include "core/status.h"

namespace longctx {

struct ListedInput {
  std::string path;     // as found: the input, or a directory input + "/" + relative name
  std::string problem;  // empty for a readable file; else why it cannot be read
};

// Sorted by path, without duplicates. A file named directly is taken whatever its name; files met
// in a directory walk or matched by a glob are kept only when their name ends in one of
// `extensions`, and walks skip hidden names ('.' prefix).
Result<std::vector<ListedInput>> list_inputs(const std::vector<std::string>& inputs,
                                             const std::vector<std::string>& extensions);

}  // namespace longctx
