// SHA-256 through OpenSSL's low-level SHA256_* functions (non-Apple platforms).
//
// Not EVP: in OpenSSL 3 the first EVP digest call initialises the library
// (reads openssl.cnf, registers every cipher and digest), about 1 ms of CPU
// that the runtime would pay at every app launch before its first result
// (the crash guard and the content hash use SHA-256 on that path). The
// low-level functions are deprecated in 3.0 but compute the same digest with
// the same CPU-specific code and no global initialisation.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "base/mapped_file.h"
#include "base/sha256.h"

namespace anepilot {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { SHA256_Init(&impl_->ctx); }

Sha256::~Sha256() = default;

void Sha256::Update(std::string_view bytes) { SHA256_Update(&impl_->ctx, bytes.data(), bytes.size()); }

std::string Sha256::FinishHex() {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_Final(md, &impl_->ctx);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(SHA256_DIGEST_LENGTH * 2);
  for (unsigned char byte : md) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 15]);
  }
  return out;
}

}  // namespace anepilot
