#include "providers/docker/debootstrap.hpp"

#include "core/node_os.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

extern char** environ;

namespace pgha {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string last_lines(const std::string& text, int n) {
  size_t pos = text.size();
  while (n-- > 0 && pos > 0) {
    size_t nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) return text;
    pos = nl;
  }
  return text.substr(pos);
}

// Runs argv (no shell) with stdout and stderr appended to log; its exit status, or -1 when it could
// not be started.
int run(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<std::string> debian_suite(const std::string& base_image) {
  std::string suite = debian_suite_of(base_image);
  if (suite.empty()) {
    return Error(ErrorKind::bad_input,
                 "debootstrap makes only debian:<suite> images (debian:bookworm), not " + base_image);
  }
  return suite;
}

std::string apt_debian_mirror(const std::string& apt_dir) {
  auto usable = [](const std::string& uri) {
    return (uri.starts_with("http://") || uri.starts_with("https://")) &&
           uri.find("/debian") != std::string::npos && uri.find("security") == std::string::npos;
  };
  std::error_code ec;
  std::vector<fs::path> sources;
  for (const auto& e : fs::directory_iterator(fs::path(apt_dir) / "sources.list.d", ec))
    if (e.path().extension() == ".sources") sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  for (const auto& p : sources) {
    std::istringstream in(read_file(p));
    for (std::string line; std::getline(in, line);) {
      if (!line.starts_with("URIs:")) continue;
      std::istringstream uris(line.substr(5));
      for (std::string uri; uris >> uri;)
        if (usable(uri)) return uri;
    }
  }
  std::istringstream in(read_file(fs::path(apt_dir) / "sources.list"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string deb, uri;
    words >> deb;
    if (deb != "deb") continue;
    while (words >> uri && uri.starts_with("[")) {
      while (!uri.ends_with("]") && words >> uri) {
      }
    }
    if (usable(uri)) return uri;
  }
  return "";
}

RootfsMaker debootstrap_rootfs(std::string mirror, std::string work_dir) {
  return [mirror, work_dir](const std::string& base_image,
                            const ProgressFn& progress) -> Result<std::string> {
    auto suite = debian_suite(base_image);
    if (!suite) return suite.error();
    if (mirror.empty()) {
      return Error(
          ErrorKind::bad_input,
          "no Debian mirror: apt's sources name none; set PGHA_DEBIAN_MIRROR to one (http://HOST/debian)");
    }
    std::string tmpl = work_dir + "/pgha-rootfs.XXXXXX";
    if (!::mkdtemp(tmpl.data())) return Error(ErrorKind::io, "cannot create a directory under " + work_dir);
    const fs::path dir = tmpl;
    struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    const fs::path rootfs = dir / "rootfs", log = dir / "log", tar = dir / "rootfs.tar";
    if (progress) progress("debootstrap --variant=minbase " + *suite + " from " + mirror);
    int rc = run({"debootstrap", "--variant=minbase", *suite, rootfs.string(), mirror}, log);
    if (rc != 0) {
      return Error(ErrorKind::remote_failure,
                   (rc < 0 ? std::string("debootstrap could not be started (is it installed?)")
                           : "debootstrap exited " + std::to_string(rc)) +
                       "; its last lines:" + last_lines(read_file(log), 5));
    }
    rc = run({"tar", "--numeric-owner", "-C", rootfs.string(), "-cf", tar.string(), "."}, log);
    if (rc != 0) {
      return Error(ErrorKind::remote_failure, "tar of the root file system exited " + std::to_string(rc) +
                                                  ":" + last_lines(read_file(log), 5));
    }
    return read_file(tar);
  };
}

}  // namespace pgha
