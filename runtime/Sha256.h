//===- Sha256.h - SHA-256 through OpenSSL's EVP interface -------*- C++ -*-===//
//
// For libvaert's own files (checkpoints, .vaez): included by its .cpp files
// only, so that OpenSSL stays a private dependency.
//
//===----------------------------------------------------------------------===//

#ifndef VAE_RUNTIME_SHA256_H
#define VAE_RUNTIME_SHA256_H

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <string>

namespace vae {

using Digest = std::array<unsigned char, 32>;

class Sha256 {
public:
  Sha256() : context(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(context); }
  Sha256(const Sha256 &) = delete;
  Sha256 &operator=(const Sha256 &) = delete;
  void update(const void *bytes, size_t count) { EVP_DigestUpdate(context, bytes, count); }
  Digest digest() {
    Digest out{};
    EVP_DigestFinal_ex(context, out.data(), nullptr);
    return out;
  }

private:
  EVP_MD_CTX *context;
};

/// `digest` as 64 lowercase hex digits.
inline std::string hexDigest(const Digest &digest) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}

} // namespace vae

#endif // VAE_RUNTIME_SHA256_H
