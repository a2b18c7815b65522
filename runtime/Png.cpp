//===- Png.cpp - grey-level PNG files through zlib ------------------------===//
//
// A PNG is a signature and chunks (length, type, data, CRC-32); the image
// data is zlib-compressed scanlines, each led by a filter byte (0: none).
//
//===----------------------------------------------------------------------===//

#include "runtime/Png.h"

#include "runtime/AtomicFile.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <fstream>

using namespace vae;

namespace {

void put32(std::string &out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(char((v >> shift) & 0xff));
}

void chunk(std::string &out, const char *type, const std::string &data) {
  put32(out, uint32_t(data.size()));
  std::string body = std::string(type, 4) + data;
  out += body;
  put32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef *>(body.data()),
                            uInt(body.size()))));
}

} // namespace

bool vae::writeGreyPng(const std::string &path, uint32_t width,
                       uint32_t height, const std::vector<uint8_t> &pixels,
                       std::string &error) {
  std::string raw;
  raw.reserve(size_t(height) * (width + 1));
  for (uint32_t y = 0; y < height; ++y) {
    raw.push_back(0); // filter: none
    raw.append(reinterpret_cast<const char *>(&pixels[size_t(y) * width]), width);
  }
  uLongf packedSize = compressBound(uLong(raw.size()));
  std::string packed(packedSize, '\0');
  if (compress2(reinterpret_cast<Bytef *>(&packed[0]), &packedSize,
                reinterpret_cast<const Bytef *>(raw.data()), uLong(raw.size()),
                Z_BEST_COMPRESSION) != Z_OK) {
    error = "zlib could not compress '" + path + "'";
    return false;
  }
  packed.resize(packedSize);
  std::string header;
  put32(header, width);
  put32(header, height);
  header += std::string("\x08\x00\x00\x00\x00", 5); // 8-bit grey, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  chunk(png, "IHDR", header);
  chunk(png, "IDAT", packed);
  chunk(png, "IEND", "");
  return writeAtomically(path, [&](std::ostream &out) { out << png; }, error);
}


std::vector<uint8_t> vae::tileImages(const std::vector<std::vector<float>> &images,
                                     uint32_t side, uint32_t columns,
                                     uint32_t &width, uint32_t &height) {
  const uint32_t border = 2;
  uint32_t rows = uint32_t((images.size() + columns - 1) / columns);
  width = columns * (side + border) + border;
  height = rows * (side + border) + border;
  std::vector<uint8_t> pixels(size_t(width) * height, 64); // dark grey border
  for (size_t i = 0; i < images.size(); ++i) {
    uint32_t x0 = border + uint32_t(i % columns) * (side + border);
    uint32_t y0 = border + uint32_t(i / columns) * (side + border);
    for (uint32_t y = 0; y < side; ++y)
      for (uint32_t x = 0; x < side; ++x) {
        float v = std::clamp(images[i][size_t(y) * side + x], 0.0f, 1.0f);
        pixels[size_t(y0 + y) * width + x0 + x] = uint8_t(std::lround(v * 255));
      }
  }
  return pixels;
}
