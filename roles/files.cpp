// Phase 2: put every rendered file in place, touching only what differs (content hash, owner, mode).
#include <openssl/evp.h>

#include <cstdio>
#include <map>
#include <sstream>

#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

std::string sha256_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", md[i]);
    out += buf;
  }
  return out;
}

std::string attrs_string(const FileAttrs& a) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%o", a.mode);
  return a.owner + ":" + a.group + ":" + mode;
}

struct RemoteFile {
  std::string hash;   // "-" when absent
  std::string attrs;  // owner:group:mode
};

// One round trip for all paths: "path<TAB>sha256<TAB>owner:group:mode" per line.
Result<std::map<std::string, RemoteFile>> inspect(NodeHandle& n) {
  std::string paths;
  for (const auto& f : n.files) paths += " " + shell_quote(f.path);
  auto r = must(
      *n.shell, "files:inspect",
      "for f in" + paths +
          "; do if [ -f \"$f\" ]; then printf '%s\\t%s\\t%s\\n' \"$f\" \"$(sha256sum < \"$f\" | cut -d' ' "
          "-f1)\" \"$(stat -c '%U:%G:%a' \"$f\")\"; else printf '%s\\t-\\t-\\n' \"$f\"; fi; done");
  if (!r) return r.error();
  std::map<std::string, RemoteFile> out;
  std::istringstream in(r->out);
  std::string line;
  while (std::getline(in, line)) {
    auto t1 = line.find('\t');
    auto t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    out[line.substr(0, t1)] = RemoteFile{line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1)};
  }
  return out;
}

}  // namespace

Status sync_files(EngineContext& ctx) {
  return for_each_parallel<NodeHandle>(ctx.nodes, [&](NodeHandle& n) -> Status {
    if (n.files.empty()) return {};
    auto remote = inspect(n);
    if (!remote) return remote.error();
    bool units_changed = false;
    int written = 0;
    for (const auto& f : n.files) {
      const RemoteFile& have = (*remote)[f.path];
      const std::string want_attrs = attrs_string(f.attrs);
      if (have.hash != sha256_hex(f.content)) {
        if (auto s = n.shell->upload(f.path, f.content, f.attrs); !s)
          return std::move(s.error())
              .with("upload " + f.path)
              .with("step files:write")
              .with("host " + n.node->name);
        n.actions.push_back("wrote " + f.path);
        ++written;
      } else if (have.attrs != want_attrs) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%o", f.attrs.mode);
        auto r = must(*n.shell, "files:attrs",
                      "chown " + shell_quote(f.attrs.owner + ":" + f.attrs.group) + " " +
                          shell_quote(f.path) + " && chmod " + mode + " " + shell_quote(f.path));
        if (!r) return r.error();
        n.actions.push_back("fixed owner/mode of " + f.path);
        ++written;
      } else {
        continue;
      }
      n.changed.insert(f.role);
      if (f.path.rfind("/etc/systemd/", 0) == 0) units_changed = true;
    }
    if (units_changed) {
      if (auto r = must(*n.shell, "files:daemon-reload", "systemctl daemon-reload"); !r) return r.error();
    }
    ctx.progress.node(n.node->name,
                      written ? std::to_string(written) + " files written" : "files up to date");
    return {};
  });
}

}  // namespace pgha
