#include "model/npy.h"

#include "core/file_io.h"

namespace longctx::model {

std::string npy_header_f32(const std::vector<int64_t>& shape) {
  // numpy writes "(3,)" for 1-D and "(2, 3)" otherwise
  std::string tuple = "(";
  for (size_t i = 0; i < shape.size(); i++) {
    tuple += std::to_string(shape[i]);
    if (shape.size() == 1) tuple += ",";
    else if (i + 1 < shape.size()) tuple += ", ";
  }
  tuple += ")";
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + tuple + ", }";
  const size_t unpadded = 10 + dict.size() + 1;  // magic(6) + version(2) + len(2) + dict + '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string h = "\x93NUMPY";
  h += (char)1;
  h += (char)0;
  h += (char)(dict.size() & 0xff);
  h += (char)(dict.size() >> 8);
  return h + dict;
}

Status write_npy_f32(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  LONGCTX_ASSIGN_OR_RETURN(AtomicWriter w, AtomicWriter::open(path));
  LONGCTX_RETURN_IF_ERROR(w.write(npy_header_f32(shape)));
  LONGCTX_RETURN_IF_ERROR(w.write(data, (size_t)n * sizeof(float)));
  return w.commit();
}

}  // namespace longctx::model
