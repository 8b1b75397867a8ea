#include "base/sha256.h"

#include "base/mapped_file.h"

namespace anepilot {

std::string Sha256Hex(std::string_view bytes) {
  Sha256 h;
  h.Update(bytes);
  return h.FinishHex();
}

Result<std::string> Sha256OfFile(const std::string& path) {
  ANEPILOT_ASSIGN_OR_RETURN(MappedFile f, MappedFile::Open(path));
  Sha256 h;
  h.Update(f.view());
  return h.FinishHex();
}

}  // namespace anepilot
