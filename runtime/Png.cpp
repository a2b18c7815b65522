//===- Png.cpp - PNG files through libpng ---------------------------------===//
//
// libpng's simplified API encodes into memory; the file is then written
// through a temporary and a rename, like every file vae-train writes.
//
//===----------------------------------------------------------------------===//

#include "runtime/Png.h"

#include "runtime/AtomicFile.h"

#include <fmt/format.h>
#include <png.h>

#include <algorithm>
#include <cmath>

using namespace vae;

bool vae::writePng(const std::string &path, uint32_t width, uint32_t height, uint32_t channels,
                   const std::vector<uint8_t> &pixels, std::string &error) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  std::vector<uint8_t> encoded;
  // The first call measures, the second encodes.
  bool ok = png_image_write_to_memory(&image, nullptr, &size, 0, pixels.data(), 0, nullptr);
  if (ok) {
    encoded.resize(size);
    ok = png_image_write_to_memory(&image, encoded.data(), &size, 0, pixels.data(), 0, nullptr);
  }
  if (!ok) {
    error = fmt::format("libpng could not encode '{}': {}", path, image.message);
    png_image_free(&image);
    return false;
  }
  return writeAtomically(
      path,
      [&](std::ostream &out) {
        out.write(reinterpret_cast<const char *>(encoded.data()), std::streamsize(size));
      },
      error);
}

std::vector<uint8_t> vae::tileImages(const std::vector<std::vector<float>> &images, uint32_t side,
                                     uint32_t columns, uint32_t &width, uint32_t &height) {
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

namespace {

/// libpng's output, counted and dropped.
void countBytes(png_structp png, png_bytep, png_size_t length) {
  *static_cast<size_t *>(png_get_io_ptr(png)) += length;
}
void noFlush(png_structp) {}

} // namespace

size_t vae::pngBytes(uint32_t width, uint32_t height, const uint8_t *pixels) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  size_t bytes = 0;
  if (!info || setjmp(png_jmpbuf(png))) { // (libpng reports errors by longjmp)
    png_destroy_write_struct(&png, info ? &info : nullptr);
    return 0;
  }
  png_set_write_fn(png, &bytes, countBytes, noFlush);
  png_set_compression_level(png, 9);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
  png_set_IHDR(png, info, width, height, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (uint32_t y = 0; y < height; ++y)
    png_write_row(png, const_cast<png_bytep>(pixels + size_t(y) * width));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}
