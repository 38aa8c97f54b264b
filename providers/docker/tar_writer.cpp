#include "providers/docker/tar_writer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <utility>

namespace pgha {
namespace {

constexpr size_t kBlock = 512;

// width - 1 octal digits, zero-padded, then the NUL (width includes it).
void put_octal(char* field, size_t width, unsigned long long value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; value >>= 3) field[i] = static_cast<char>('0' + (value & 7));
}

}  // namespace

void TarWriter::header(const std::string& path, char type, size_t size, int mode, int uid, int gid) {
  char h[kBlock];
  std::memset(h, 0, sizeof(h));
  std::string name = path, prefix;
  if (name.size() > 100) {
    size_t split = name.rfind('/', 155);
    if (split != std::string::npos && name.size() - split - 1 <= 100) {
      prefix = name.substr(0, split);
      name = name.substr(split + 1);
    }
  }
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  put_octal(h + 100, 8, static_cast<unsigned>(mode) & 07777);
  put_octal(h + 108, 8, static_cast<unsigned>(uid));
  put_octal(h + 116, 8, static_cast<unsigned>(gid));
  put_octal(h + 124, 12, size);
  put_octal(h + 136, 12, 0);  // mtime: fixed, for reproducible contexts
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  std::memcpy(h + 345, prefix.data(), std::min<size_t>(prefix.size(), 155));
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put_octal(h + 148, 7, sum);  // six digits and a NUL; the eighth byte keeps its space
  out_.append(h, kBlock);
}

void TarWriter::add_file(const std::string& path, const std::string& content, int mode, int uid, int gid) {
  header(path, '0', content.size(), mode, uid, gid);
  out_ += content;
  out_.append((kBlock - content.size() % kBlock) % kBlock, '\0');
}

void TarWriter::add_dir(const std::string& path, int mode, int uid, int gid) {
  header(path.ends_with('/') ? path : path + "/", '5', 0, mode, uid, gid);
}

std::string TarWriter::finish() {
  out_.append(2 * kBlock, '\0');
  return std::exchange(out_, std::string());
}

}  // namespace pgha
