// SHA-256 through CommonCrypto (Apple platforms only; CMake picks this file
// there instead of sha256_openssl.cc).
#include <CommonCrypto/CommonDigest.h>

#include "base/sha256.h"

namespace anepilot {

struct Sha256::Impl {
  CC_SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { CC_SHA256_Init(&impl_->ctx); }
Sha256::~Sha256() = default;

void Sha256::Update(std::string_view bytes) {
  // CC_SHA256_Update takes a 32-bit length: feed large inputs in pieces.
  while (!bytes.empty()) {
    size_t n = bytes.size() < (1u << 30) ? bytes.size() : (1u << 30);
    CC_SHA256_Update(&impl_->ctx, bytes.data(), static_cast<CC_LONG>(n));
    bytes.remove_prefix(n);
  }
}

std::string Sha256::FinishHex() {
  unsigned char md[CC_SHA256_DIGEST_LENGTH];
  CC_SHA256_Final(md, &impl_->ctx);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : md) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

}  // namespace anepilot
