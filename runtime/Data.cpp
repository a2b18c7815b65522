//===- Data.cpp - batches, noise and shuffling for vae-train --------------===//

#include "runtime/Data.h"

#include "runtime/Idx.h"
#include "vae/philox.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xtensor/xcsv.hpp>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <sstream>

using namespace vae;

namespace {

/// Philox streams (the counter's last word) of the runtime's draws.
enum Stream : uint32_t {
  kNoiseStream = 1,
  kShuffleStream = 2,
  kDynamicBinarizeStream = 3,
  kStaticBinarizeStream = 4,
};

PhiloxKey keyOf(uint64_t seed) { return {uint32_t(seed), uint32_t(seed >> 32)}; }

} // namespace

bool Dataset::load(const std::string &path, size_t limit, const std::string &labelColumn,
                   Dataset &out, std::string &error) {
  out = Dataset();
  out.path = path;
  std::string extension = std::filesystem::path(path).extension();
  if (extension == ".npy")
    return loadNpy(path, limit, out, error);
  if (extension == ".csv")
    return loadCsv(path, limit, labelColumn, out, error);
  auto reader = IdxReader::open(path, error);
  if (!reader)
    return false;
  out.count = limit ? std::min<size_t>(limit, reader->count()) : reader->count();
  out.size = reader->exampleSize();
  out.exampleShape.assign(reader->exampleShape().begin(), reader->exampleShape().end());
  if (!reader->read(out.count, out.owned, error))
    return false;
  out.checksum = uint32_t(::crc32_z(0L, out.owned.data(), out.owned.size()));
  return true;
}

bool Dataset::loadIdxLabels(const std::string &labelPath, std::string &error) {
  Dataset raw;
  if (!load(labelPath, count, "", raw, error))
    return false;
  if (raw.size != 1 || raw.count != count) {
    error = fmt::format("'{}' has {} labels of {} values for the {} examples of '{}'", labelPath,
                        raw.count, raw.size, count, path);
    return false;
  }
  labels.assign(raw.owned.begin(), raw.owned.end());
  return true;
}

namespace {

/// The value after `'key':` in a .npy header (a Python dict literal), from
/// its first character; npos if the key is missing.
size_t npyValue(const std::string &header, const char *key) {
  size_t at = header.find(std::string("'") + key + "'");
  if (at == std::string::npos)
    return at;
  at = header.find_first_not_of(' ', at + std::strlen(key) + 2);
  if (at == std::string::npos || header[at] != ':')
    return std::string::npos;
  return header.find_first_not_of(' ', at + 1);
}

/// Reads descr, fortran_order and shape from a .npy header; the problem, if
/// any. (Not xtensor's parser: on damaged headers it reads before the
/// string's start, as tests/fuzz/vaert-fuzz found.)
std::string parseNpyHeader(const std::string &header, std::string &descr, bool &fortranOrder,
                           std::vector<size_t> &shape) {
  size_t at = npyValue(header, "descr");
  if (at == std::string::npos || (header[at] != '\'' && header[at] != '"'))
    return "no 'descr' string in its header";
  size_t end = header.find(header[at], at + 1);
  if (end == std::string::npos)
    return "an unterminated 'descr' in its header";
  descr = header.substr(at + 1, end - at - 1);
  at = npyValue(header, "fortran_order");
  if (at == std::string::npos ||
      (header.compare(at, 4, "True") != 0 && header.compare(at, 5, "False") != 0))
    return "no 'fortran_order' True or False in its header";
  fortranOrder = header.compare(at, 4, "True") == 0;
  at = npyValue(header, "shape");
  if (at == std::string::npos || header[at] != '(')
    return "no 'shape' tuple in its header";
  shape.clear();
  for (++at;;) {
    at = header.find_first_not_of(' ', at);
    if (at == std::string::npos)
      return "an unterminated 'shape' in its header";
    if (header[at] == ')')
      return {};
    size_t dim = 0, digits = 0;
    for (; at < header.size() && std::isdigit(static_cast<unsigned char>(header[at]));
         ++at, ++digits)
      if (__builtin_mul_overflow(dim, size_t(10), &dim) ||
          __builtin_add_overflow(dim, size_t(header[at] - '0'), &dim))
        return "a 'shape' dimension beyond 2^64 in its header";
    at = header.find_first_not_of(' ', at);
    if (digits == 0 || at == std::string::npos || (header[at] != ',' && header[at] != ')'))
      return "a 'shape' that is not a tuple of integers in its header";
    shape.push_back(dim);
    if (header[at] == ',')
      ++at;
  }
}

struct NpyHeader {
  std::string descr;
  bool fortranOrder = false;
  std::vector<size_t> shape;
};

/// The preamble and header of a .npy file, read here: xtensor's reader of a
/// version 2 header length shifts signed chars and allocates whatever
/// length it reads (found by tests/fuzz/vaert-fuzz: gigabytes for a file of
/// a few bytes). `in` is left at the data.
bool readNpyHeader(std::ifstream &in, const std::string &path, size_t fileBytes, NpyHeader &npy,
                   std::string &error) {
  auto refuse = [&](const std::string &why) {
    error = fmt::format("'{}' is not a NumPy .npy file (offset 0: {})", path, why);
    return false;
  };
  unsigned char preamble[12] = {};
  in.read(reinterpret_cast<char *>(preamble), 10);
  if (!in || std::memcmp(preamble, "\x93NUMPY", 6) != 0)
    return refuse("no \\x93NUMPY magic");
  unsigned major = preamble[6], minor = preamble[7];
  if (major < 1 || major > 3)
    return refuse(fmt::format("a header of version {}.{}", major, minor));
  size_t headerBytes = size_t(preamble[8]) | size_t(preamble[9]) << 8;
  if (major > 1 && in.read(reinterpret_cast<char *>(preamble) + 10, 2))
    headerBytes |= size_t(preamble[10]) << 16 | size_t(preamble[11]) << 24;
  size_t headerOffset = major > 1 ? 12 : 10;
  if (!in || headerOffset + headerBytes > fileBytes)
    return refuse(fmt::format("a header of {} bytes in a file of {}", headerBytes, fileBytes));
  std::string header(headerBytes, '\0');
  in.read(header.data(), std::streamsize(headerBytes));
  if (std::string problem = parseNpyHeader(header, npy.descr, npy.fortranOrder, npy.shape);
      !problem.empty())
    return refuse(problem);
  return true;
}

} // namespace

bool Dataset::loadNpyLabels(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot open --labels '{}'", path);
    return false;
  }
  std::error_code ec;
  size_t fileBytes = std::filesystem::file_size(path, ec);
  NpyHeader npy;
  if (!readNpyHeader(in, path, fileBytes, npy, error))
    return false;
  // Integers of any width NumPy writes by default, one per example.
  const std::pair<const char *, size_t> kinds[] = {{"|u1", 1}, {"<u1", 1}, {"|i1", 1},
                                                   {"<i2", 2}, {"<i4", 4}, {"<i8", 8}};
  auto kind = std::find_if(std::begin(kinds), std::end(kinds),
                           [&](const auto &k) { return npy.descr == k.first; });
  size_t rows = npy.shape.empty() ? 0 : npy.shape[0];
  bool oneColumn = npy.shape.size() == 1 || (npy.shape.size() == 2 && npy.shape[1] == 1);
  if (kind == std::end(kinds) || npy.fortranOrder || !oneColumn || rows < count) {
    error = fmt::format("--labels '{}' holds {} [{}]: it takes one integer (uint8, int8, int16, "
                        "int32 or int64) per example of '{}', [{}] or more",
                        path, npy.descr, fmt::join(npy.shape, ", "), this->path, count);
    return false;
  }
  size_t offset = size_t(in.tellg());
  if (fileBytes < offset || fileBytes - offset < count * kind->second) {
    error = fmt::format("--labels '{}' is truncated: {} labels of {} bytes from offset {}, the "
                        "file ends at offset {}",
                        path, count, kind->second, offset, fileBytes);
    return false;
  }
  labels.assign(count, 0);
  for (size_t i = 0; i < count; ++i) {
    int64_t label = 0;
    unsigned char bytes[8] = {};
    in.read(reinterpret_cast<char *>(bytes), std::streamsize(kind->second));
    bool isSigned = npy.descr[1] == 'i';
    for (size_t b = 0; b < kind->second; ++b)
      label |= int64_t(bytes[b]) << (8 * b);
    if (isSigned && kind->second < 8 && (bytes[kind->second - 1] & 0x80))
      label -= int64_t(1) << (8 * kind->second); // sign-extend
    if (label < INT32_MIN || label > INT32_MAX) {
      error = fmt::format("--labels '{}': label {} (example {}, byte offset {}) is beyond 32 bits",
                          path, label, i, offset + i * kind->second);
      return false;
    }
    labels[i] = int32_t(label);
  }
  return true;
}

bool Dataset::loadNpy(const std::string &path, size_t limit, Dataset &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot open '{}'", path);
    return false;
  }
  NpyHeader npy;
  std::error_code ec;
  size_t fileBytes = std::filesystem::file_size(path, ec);
  if (!readNpyHeader(in, path, fileBytes, npy, error))
    return false;
  const std::string &descr = npy.descr;
  bool fortranOrder = npy.fortranOrder;
  const std::vector<size_t> &shape = npy.shape;
  size_t dataOffset = size_t(in.tellg());
  const std::pair<const char *, Element> kinds[] = {
      {"|u1", Element::U8}, {"<u1", Element::U8}, {"<f4", Element::F32}, {"<f8", Element::F64}};
  auto kind = std::find_if(std::begin(kinds), std::end(kinds),
                           [&](const auto &k) { return descr == k.first; });
  if (kind == std::end(kinds) || fortranOrder || shape.size() < 2) {
    error = fmt::format(
        "'{}' holds {} [{}]{}: vae-train reads C-order arrays of float32, float64 or uint8 "
        "(little-endian) with one example per row, shape [N, ...]",
        path, descr, fmt::join(shape, ", "), fortranOrder ? " in Fortran order" : "");
    return false;
  }
  out.element = kind->second;
  out.exampleShape.assign(shape.begin() + 1, shape.end());
  size_t rows = shape[0], arrayBytes = out.elementBytes();
  out.size = 1;
  bool overflow = false;
  for (size_t i = 1; i < shape.size(); ++i)
    overflow |= __builtin_mul_overflow(out.size, shape[i], &out.size);
  for (size_t dim : shape)
    overflow |= __builtin_mul_overflow(arrayBytes, dim, &arrayBytes);
  out.count = limit ? std::min(limit, rows) : rows;
  if (ec || overflow || fileBytes < dataOffset || fileBytes - dataOffset < arrayBytes) {
    error = fmt::format("'{}' is truncated: its header promises {} x {} values ({} bytes from "
                        "offset {}), the file ends at offset {}",
                        path, rows, out.size,
                        overflow ? std::string("more than 2^64") : std::to_string(arrayBytes),
                        dataOffset, fileBytes);
    return false;
  }
  // Mapped privately: pages are read as batches touch them, and a static
  // binarization writes copies of them, never the file.
  if (out.count > 0 && dataOffset % out.elementBytes() == 0) {
    int fd = ::open(path.c_str(), O_RDONLY);
    void *base = fd < 0 ? MAP_FAILED
                        : ::mmap(nullptr, fileBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (fd >= 0)
      ::close(fd);
    if (base == MAP_FAILED) {
      error = fmt::format("cannot map '{}': {}", path, std::strerror(errno));
      return false;
    }
    out.mapped = std::shared_ptr<uint8_t>(static_cast<uint8_t *>(base),
                                          [fileBytes](uint8_t *p) { ::munmap(p, fileBytes); });
    out.mappedOffset = dataOffset;
  } else { // (a header that leaves the data misaligned: read them)
    out.owned.resize(out.count * out.rowBytes());
    in.seekg(std::streamoff(dataOffset));
    in.read(reinterpret_cast<char *>(out.owned.data()), std::streamsize(out.owned.size()));
  }
  if (!out.checkFinite(dataOffset, error))
    return false;
  out.checksum = uint32_t(::crc32_z(0L, out.bytes(), out.count * out.rowBytes()));
  return true;
}

std::string Dataset::indexName(size_t i, size_t j) const {
  std::vector<size_t> index(exampleShape.size());
  for (size_t d = index.size(), rest = j; d-- > 0; rest /= exampleShape[d])
    index[d] = rest % exampleShape[d];
  return fmt::format("x[{}, {}]", i, fmt::join(index, ", "));
}

std::optional<std::pair<size_t, size_t>> Dataset::firstOutside(float lo, float hi) const {
  if (element == Element::U8 && lo <= 0.0f && hi >= 255.0f / byteDivisor)
    return std::nullopt; // (read as byte / byteDivisor)
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < size; ++j)
      if (float v = value(i, j); !(v >= lo && v <= hi))
        return std::pair{i, j};
  return std::nullopt;
}

bool Dataset::checkFinite(size_t dataOffset, std::string &error) const {
  if (element == Element::U8)
    return true;
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < size; ++j)
      if (float v = value(i, j); !std::isfinite(v)) {
        error = fmt::format("'{}': {} (example {}) is {} (byte offset {}); the data "
                            "must be finite",
                            path, indexName(i, j), i,
                            std::isnan(v) ? "NaN"
                            : v > 0       ? "+inf"
                                          : "-inf",
                            dataOffset + (i * size + j) * elementBytes());
        return false;
      }
  return true;
}

namespace {

/// The cells of one CSV line, split by xtensor's reader, blanks around
/// each trimmed (xtensor 0.24's own trimming keeps trailing ones).
std::vector<std::string> csvCells(const std::string &line) {
  std::istringstream stream(line);
  auto cells = xt::load_csv<std::string>(stream);
  std::vector<std::string> out;
  for (const std::string &cell : cells) {
    size_t first = cell.find_first_not_of(" \t"), last = cell.find_last_not_of(" \t");
    out.push_back(first == std::string::npos ? "" : cell.substr(first, last + 1 - first));
  }
  return out;
}

/// `cell` as a number, all of it (std::stod would take "1.5x" as 1.5).
bool parseNumber(const std::string &cell, double &value) {
  char *end = nullptr;
  value = std::strtod(cell.c_str(), &end);
  return !cell.empty() && end == cell.c_str() + cell.size();
}

} // namespace

bool Dataset::loadCsv(const std::string &path, size_t limit, const std::string &labelColumn,
                      Dataset &out, std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = fmt::format("cannot open '{}'", path);
    return false;
  }
  std::string line;
  std::vector<std::string> header;
  size_t lineNumber = 0, columns = 0, labelIndex = SIZE_MAX;
  std::vector<float> values;
  // --label-column as a 0-based index (all digits), for a file without a
  // header line.
  std::optional<size_t> columnIndex;
  if (!labelColumn.empty() && labelColumn.size() < 10 &&
      std::all_of(labelColumn.begin(), labelColumn.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    columnIndex = size_t(std::stoul(labelColumn));
  auto where = [&](size_t column) {
    return fmt::format("'{}', line {}, column {}{}", path, lineNumber, column + 1,
                       column < header.size() ? fmt::format(" ('{}')", header[column]) : "");
  };
  while (std::getline(in, line) && (!limit || out.count < limit)) {
    ++lineNumber;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos || line[0] == '#')
      continue;
    std::vector<std::string> cells = csvCells(line);
    if (line.back() == ',') // (a trailing empty cell: xtensor's reader drops it)
      cells.emplace_back();
    double number;
    if (columns == 0) { // the first row: a header if any cell is no number
      columns = cells.size();
      if (!std::all_of(cells.begin(), cells.end(),
                       [&](const std::string &c) { return parseNumber(c, number); })) {
        header = cells;
        if (!labelColumn.empty()) {
          auto it = std::find(header.begin(), header.end(), labelColumn);
          if (it == header.end() && columnIndex && *columnIndex < columns) {
            labelIndex = *columnIndex; // (a number that names no column: its index)
            continue;
          }
          if (it == header.end()) {
            size_t shown = std::min<size_t>(header.size(), 12);
            error = fmt::format(
                "'{}' has no column named '{}'; its columns are: {}{}", path, labelColumn,
                fmt::join(header.begin(), header.begin() + long(shown), ", "),
                shown < header.size() ? fmt::format(", ... ({} in all)", header.size()) : "");
            return false;
          }
          labelIndex = size_t(it - header.begin());
        }
        continue;
      }
      if (!labelColumn.empty() && !columnIndex) {
        error = fmt::format("'{}' has no header line, so it has no column named '{}' (a "
                            "0-based index, --label-column 0, names a column of a file "
                            "without one)",
                            path, labelColumn);
        return false;
      }
      if (columnIndex && *columnIndex >= columns) {
        error = fmt::format("'{}' has {} columns, so --label-column {} (0-based) names none", path,
                            columns, *columnIndex);
        return false;
      }
      if (columnIndex)
        labelIndex = *columnIndex;
    }
    if (cells.size() != columns) {
      error = fmt::format("'{}', line {}: {} cells, where the {} has {}", path, lineNumber,
                          cells.size(), header.empty() ? "first row" : "header", columns);
      return false;
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      if (!parseNumber(cells[c], number)) {
        error = fmt::format("{}: '{}' is not a number", where(c), cells[c]);
        return false;
      }
      if (!std::isfinite(number)) {
        error = fmt::format("{}: {} is not finite; the data must be", where(c), cells[c]);
        return false;
      }
      // (Finite as a double, but float32 holds it as infinity: found by
      // tests/fuzz/vaert-fuzz.)
      if (c != labelIndex && !std::isfinite(float(number))) {
        error = fmt::format("{}: {} is beyond float32's range; the data must be finite in it",
                            where(c), cells[c]);
        return false;
      }
      if (c == labelIndex) {
        if (number != std::floor(number) || std::abs(number) > 1e9) {
          error = fmt::format("{}: the label {} is not an integer", where(c), cells[c]);
          return false;
        }
        out.labels.push_back(int32_t(number));
      } else {
        values.push_back(float(number));
      }
    }
    ++out.count;
  }
  if (out.count == 0) {
    error = fmt::format("'{}' has no rows of data", path);
    return false;
  }
  out.element = Element::F32;
  out.size = columns - (labelIndex == SIZE_MAX ? 0 : 1);
  if (out.size == 0) { // (a file of labels alone: found by tests/fuzz/vaert-fuzz)
    error = fmt::format("'{}' has no column of data besides its labels", path);
    return false;
  }
  out.exampleShape = {out.size};
  out.owned.resize(values.size() * sizeof(float));
  std::memcpy(out.owned.data(), values.data(), out.owned.size());
  out.checksum = uint32_t(::crc32_z(0L, out.owned.data(), out.owned.size()));
  return true;
}

float Dataset::value(size_t i, size_t j) const {
  const uint8_t *row = bytes() + i * rowBytes();
  switch (element) {
  case Element::U8:
    return float(row[j]) / byteDivisor;
  case Element::F32: {
    float v;
    std::memcpy(&v, row + 4 * j, 4);
    return v;
  }
  case Element::F64: {
    double v;
    std::memcpy(&v, row + 8 * j, 8);
    return float(v);
  }
  }
  return 0;
}

Dataset Dataset::subset(const std::vector<uint32_t> &rows) const {
  Dataset out;
  out.path = path;
  out.element = element;
  out.size = size;
  out.exampleShape = exampleShape;
  out.byteDivisor = byteDivisor;
  out.count = rows.size();
  out.owned.resize(rows.size() * rowBytes());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(&out.owned[i * rowBytes()], bytes() + size_t(rows[i]) * rowBytes(), rowBytes());
    if (!labels.empty())
      out.labels.push_back(labels[rows[i]]);
  }
  out.checksum = uint32_t(::crc32_z(0L, out.owned.data(), out.owned.size()));
  return out;
}

Dataset Dataset::fromBytes(std::string path, Element element, size_t count, size_t size,
                           std::vector<uint8_t> bytes) {
  Dataset out;
  out.path = std::move(path);
  out.element = element;
  out.count = count;
  out.size = size;
  out.exampleShape = {size};
  out.owned = std::move(bytes);
  out.checksum = uint32_t(::crc32_z(0L, out.owned.data(), out.owned.size()));
  return out;
}

void Dataset::binarizeStatically(uint32_t stream) {
  // Four draws per Philox call; a fixed key, not the run's seed.
  PhiloxKey key{0x62696e61u, stream};
  for (size_t example = 0; example < count; ++example) {
    uint8_t *row = mutableBytes() + example * rowBytes();
    for (size_t j = 0; j < size; j += 4) {
      PhiloxCounter w =
          philox4x32_10({uint32_t(j / 4), uint32_t(example), 0, kStaticBinarizeStream}, key);
      for (size_t k = 0; k < 4 && j + k < size; ++k) {
        size_t at = j + k;
        if (element == Element::U8) {
          row[at] = uniformFloat(w[k]) * 255.0f < float(row[at]) ? 255 : 0;
        } else if (element == Element::F32) {
          float v = uniformFloat(w[k]) < value(example, at) ? 1.0f : 0.0f;
          std::memcpy(row + 4 * at, &v, 4);
        } else {
          double v = uniformFloat(w[k]) < value(example, at) ? 1.0 : 0.0;
          std::memcpy(row + 8 * at, &v, 8);
        }
      }
    }
  }
}

bool vae::parseClasses(const std::string &text, std::vector<int32_t> &classes, std::string &error) {
  classes.clear();
  std::istringstream parts(text);
  for (std::string part; std::getline(parts, part, ',');) {
    long first, last;
    char dash;
    std::istringstream range(part);
    bool ok = bool(range >> first);
    last = first;
    if (ok && range >> dash)
      ok = dash == '-' && range >> last && range.peek() == EOF && first <= last;
    if (!ok || first < 0 || last > 1000000) {
      error = fmt::format("--classes '{}': '{}' is not a label or a range like 0-8", text, part);
      return false;
    }
    for (long c = first; c <= last; ++c)
      classes.push_back(int32_t(c));
  }
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  if (classes.empty()) {
    error = fmt::format("--classes '{}' names no label", text);
    return false;
  }
  return true;
}

std::string vae::findIdx(const std::string &dir, const std::string &stem) {
  for (const char *suffix : {"", ".gz"}) {
    std::string path = dir + "/" + stem + suffix;
    if (std::filesystem::exists(path))
      return path;
  }
  return "";
}

void vae::fillNoise(std::vector<float> &eps, uint64_t seed, uint32_t epoch, uint32_t step,
                    size_t first) {
  // Box-Muller on both halves of each Philox draw: four normals per call.
  // (vae-train spends this between training steps, on the critical path.)
  PhiloxKey key = keyOf(seed);
  size_t end = first + eps.size();
  for (size_t block = first / 4 * 4; block < end; block += 4) {
    PhiloxCounter w = philox4x32_10({uint32_t(block / 4), step, epoch, kNoiseStream}, key);
    for (size_t pair = 0; pair < 2; ++pair) {
      // u1 in (0, 1] from the top 24 bits (exact in float), u2 in [0, 1).
      float u1 = float((w[2 * pair] >> 8) + 1) * 0x1p-24f;
      float u2 = float(w[2 * pair + 1] >> 8) * 0x1p-24f;
      float r = std::sqrt(-2.0f * std::log(u1)), s, c;
      sincosf(float(2 * M_PI) * u2, &s, &c);
      size_t j = block + 2 * pair;
      if (j >= first && j < end)
        eps[j - first] = r * c;
      if (j + 1 >= first && j + 1 < end)
        eps[j + 1 - first] = r * s;
    }
  }
}

std::vector<uint32_t> vae::shuffle(size_t n, uint64_t seed, uint32_t epoch) {
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i)
    order[i] = uint32_t(i);
  PhiloxKey key = keyOf(seed);
  for (size_t i = n; i > 1; --i) {
    uint32_t r = philox4x32_10({uint32_t(i), epoch, 0, kShuffleStream}, key)[0];
    std::swap(order[i - 1], order[r % i]);
  }
  return order;
}

void vae::gather(const Dataset &data, const uint32_t *indices, size_t n, std::vector<float> &x) {
  for (size_t b = 0; b < n; ++b) {
    const uint8_t *row = data.bytes() + size_t(indices[b]) * data.rowBytes();
    float *to = &x[b * data.size];
    if (data.element == Element::U8)
      for (size_t j = 0; j < data.size; ++j)
        to[j] = float(row[j]) / data.byteDivisor;
    else if (data.element == Element::F32)
      std::memcpy(to, row, data.rowBytes());
    else
      for (size_t j = 0; j < data.size; ++j)
        to[j] = data.value(indices[b], j);
  }
  std::fill(x.begin() + long(n * data.size), x.end(), 0.0f);
}

void vae::binarizeDynamically(float *x, size_t count, uint64_t seed, uint32_t epoch, uint32_t step,
                              size_t first) {
  PhiloxKey key = keyOf(seed);
  size_t end = first + count;
  for (size_t block = first / 4 * 4; block < end; block += 4) {
    PhiloxCounter w =
        philox4x32_10({uint32_t(block / 4), step, epoch, kDynamicBinarizeStream}, key);
    for (size_t k = 0; k < 4; ++k)
      if (size_t j = block + k; j >= first && j < end)
        x[j - first] = uniformFloat(w[k]) < x[j - first] ? 1.0f : 0.0f;
  }
}
