// A ustar archive built in memory: the Engine API takes build contexts and file uploads as tar.
// Deterministic (fixed mtime, numeric owners) so the same files give the same bytes.
#pragma once

#include <string>

namespace pgha {

class TarWriter {
 public:
  // path is relative ("root/.ssh/authorized_keys"), at most 255 bytes with a 100-byte base name.
  void add_file(const std::string& path, const std::string& content, int mode = 0644, int uid = 0,
                int gid = 0);
  void add_dir(const std::string& path, int mode = 0755, int uid = 0, int gid = 0);
  // The archive, with its two terminating zero blocks. The writer is left empty.
  std::string finish();

 private:
  void header(const std::string& path, char type, size_t size, int mode, int uid, int gid);
  std::string out_;
};

}  // namespace pgha
