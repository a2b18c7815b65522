//===- Png.h - PNG files through libpng -------------------------*- C++ -*-===//

#ifndef VAE_RUNTIME_PNG_H
#define VAE_RUNTIME_PNG_H

#include <cstdint>
#include <string>
#include <vector>

namespace vae {

/// Writes an 8-bit PNG of `width` x `height` row-major pixels of
/// `channels` bytes each (1: grey, 3: RGB), atomically (AtomicFile.h).
bool writePng(const std::string &path, uint32_t width, uint32_t height, uint32_t channels,
              const std::vector<uint8_t> &pixels, std::string &error);

/// Bytes of an 8-bit grey PNG of `pixels` (`width` x `height`) at zlib's
/// highest level with adaptive filters: how much a generic lossless image
/// codec needs for them (the input complexity of Serra et al. 2020). 0 if
/// libpng fails.
size_t pngBytes(uint32_t width, uint32_t height, const uint8_t *pixels);

/// Tiles `images` (each side x side values in [0, 1]) into a grid of
/// `columns` with a 2-pixel border, as 8-bit grey levels.
std::vector<uint8_t> tileImages(const std::vector<std::vector<float>> &images, uint32_t side,
                                uint32_t columns, uint32_t &width, uint32_t &height);

} // namespace vae

#endif // VAE_RUNTIME_PNG_H
