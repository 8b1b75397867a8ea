#include "runtime/content_hash_cache.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "base/durable_file.h"
#include "base/mapped_file.h"
#include "base/sha256.h"
#include "runtime/compiled_model_store.h"

namespace anepilot::runtime {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string StatLine(const struct stat& st) {
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
         std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
}

}  // namespace

Result<std::string> MetadataFingerprint(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return NotFound(path + ": model not found");
  if (!S_ISDIR(st.st_mode)) return "file " + StatLine(st);
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it); it.increment(ec)) {
    struct stat fst;
    if (::stat(it->path().c_str(), &fst) != 0 || S_ISDIR(fst.st_mode)) continue;
    lines.push_back(it->path().lexically_relative(path).generic_string() + " " + StatLine(fst));
  }
  if (ec) return IoError(path + ": cannot list directory: " + ec.message());
  std::sort(lines.begin(), lines.end());
  std::string all = "dir";
  for (const auto& l : lines) all += "\n" + l;
  return "dir " + Sha256Hex(all);
}

Result<std::string> CachedContentHash(const std::string& path_in, const std::string& cache_file) {
  std::error_code ec;
  const std::string path = fs::absolute(path_in, ec).lexically_normal().string();
  ANEPILOT_ASSIGN_OR_RETURN(std::string fingerprint, MetadataFingerprint(path));
  json cache = json::object();
  if (auto text = ReadFileToString(cache_file); text.ok()) {
    json parsed = json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object() && parsed.value("version", 0) == 1 && parsed.contains("entries") &&
        parsed["entries"].is_object()) {
      cache = std::move(parsed);
    }
  }
  if (!cache.contains("entries")) cache = {{"version", 1}, {"entries", json::object()}};
  json& entries = cache["entries"];
  if (entries.contains(path) && entries[path].is_object() &&
      entries[path].value("fingerprint", std::string()) == fingerprint) {
    std::string hash = entries[path].value("sha256", std::string());
    if (hash.size() == 64) return hash;
  }
  ANEPILOT_ASSIGN_OR_RETURN(std::string hash, CompiledModelStore::HashPath(path));
  entries[path] = {{"fingerprint", fingerprint}, {"sha256", hash}};
  (void)WriteFileAtomically(cache_file, cache.dump(1), /*durable=*/false);
  return hash;
}

}  // namespace anepilot::runtime
