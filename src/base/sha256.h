// SHA-256 content hashing, for model identity (policy matching, telemetry,
// the compiled-model store). Backed by the platform's crypto library:
// OpenSSL's libcrypto elsewhere, CommonCrypto on Apple platforms.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "anepilot/result.h"

namespace anepilot {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Lowercase hex digest (64 chars). The hasher must not be used afterwards.
  std::string FinishHex();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string Sha256Hex(std::string_view bytes);

// Hash of a file (mapped, streamed through the hasher). Errors as MappedFile.
Result<std::string> Sha256OfFile(const std::string& path);

}  // namespace anepilot
