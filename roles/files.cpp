// Phase 2: put every rendered file in place, touching only what differs (content hash, owner, mode).
#include <openssl/evp.h>

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "core/sha256.hpp"
#include "roles/engine.hpp"
#include "roles/parallel.hpp"
#include "roles/remote.hpp"

namespace pgha {
namespace {

struct RemoteView {
  std::map<std::string, RemoteFile> files;
  std::set<std::string> pending;
};

// One round trip for all paths: "path<TAB>sha256<TAB>owner:group:mode" per line, then
// "pending<TAB>name" per marker.
Result<RemoteView> inspect(NodeHandle& n) {
  std::string paths;
  for (const auto& f : n.files) paths += " " + shell_quote(f.path);
  auto r = must(
      *n.shell, "files:inspect",
      "for f in" + paths +
          "; do if [ -f \"$f\" ]; then printf '%s\\t%s\\t%s\\n' \"$f\" \"$(sha256sum < \"$f\" | cut -d' ' "
          "-f1)\" \"$(stat -c '%U:%G:%a' \"$f\")\"; else printf '%s\\t-\\t-\\n' \"$f\"; fi; done; "
          "for p in " +
          std::string(kPendingDir) +
          "/*; do [ -e \"$p\" ] && printf 'pending\\t%s\\t-\\n' "
          "\"${p##*/}\"; done; true");
  if (!r) return r.error();
  RemoteView out;
  std::istringstream in(r->out);
  std::string line;
  while (std::getline(in, line)) {
    auto t1 = line.find('\t');
    auto t2 = line.find('\t', t1 + 1);
    if (t1 == std::string::npos || t2 == std::string::npos) continue;
    std::string first = line.substr(0, t1), second = line.substr(t1 + 1, t2 - t1 - 1);
    if (first == "pending") {
      out.pending.insert(second);
    } else {
      out.files[first] = RemoteFile{second, line.substr(t2 + 1)};
    }
  }
  return out;
}

bool is_unit_file(const std::string& path) {
  return path.rfind("/etc/systemd/", 0) == 0;
}

}  // namespace

std::string file_attrs_string(const FileAttrs& a) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%o", a.mode);
  return a.owner + ":" + a.group + ":" + mode;
}

Status clear_pending(NodeHandle& n, const std::string& marker) {
  auto r = must(*n.shell, "files:pending", "rm -f " + shell_quote(std::string(kPendingDir) + "/" + marker));
  if (!r) return r.error();
  return {};
}

Status sync_files(EngineContext& ctx) {
  return for_each_parallel<NodeHandle>(ctx.nodes, [&](NodeHandle& n) -> Status {
    if (n.files.empty()) return {};
    Result<RemoteView> remote = RemoteView{n.seen.files, n.seen.pending};
    if (!n.seen.valid) remote = inspect(n);
    if (!remote) return remote.error();
    for (const auto& name : remote->pending) {
      if (auto role = role_from_string(name)) n.changed.insert(*role);
    }
    // What differs, and the markers it owes, before touching anything.
    std::vector<const RenderedFile*> rewrite, fix_attrs;
    std::set<std::string> markers;
    for (const auto& f : n.files) {
      const RemoteFile& have = remote->files[f.path];
      if (have.hash != sha256_hex(f.content)) {
        rewrite.push_back(&f);
      } else if (have.attrs != file_attrs_string(f.attrs)) {
        fix_attrs.push_back(&f);
      } else {
        continue;
      }
      markers.insert(is_unit_file(f.path) ? "systemd" : "");
      markers.insert(to_string(f.role));
    }
    markers.erase("");
    if (!markers.empty()) {
      std::string touch = "mkdir -p " + std::string(kPendingDir) + " && cd " + kPendingDir + " && touch";
      for (const auto& m : markers) touch += " " + shell_quote(m);
      if (auto r = must(*n.shell, "files:pending", touch); !r) return r.error();
    }
    std::vector<RemoteShell::FileWrite> writes;
    for (const RenderedFile* f : rewrite) writes.push_back({f->path, f->content, f->attrs});
    if (auto s = n.shell->upload_all(writes); !s)
      return std::move(s.error()).with("step files:write").with("host " + n.node->name);
    for (const RenderedFile* f : rewrite) {
      n.did(ChangeKind::write_file, f->path, "wrote " + f->path);
      n.changed.insert(f->role);
      // A later pass over other content for the same path (after nodes leave) compares with this.
      if (n.seen.valid)
        n.seen.files[f->path] = RemoteFile{sha256_hex(f->content), file_attrs_string(f->attrs)};
    }
    for (const RenderedFile* f : fix_attrs) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%o", f->attrs.mode);
      auto r = must(*n.shell, "files:attrs",
                    "chown " + shell_quote(f->attrs.owner + ":" + f->attrs.group) + " " +
                        shell_quote(f->path) + " && chmod " + mode + " " + shell_quote(f->path));
      if (!r) return r.error();
      n.did(ChangeKind::write_file, f->path, "fixed owner/mode of " + f->path);
      n.changed.insert(f->role);
      if (n.seen.valid) n.seen.files[f->path].attrs = file_attrs_string(f->attrs);
    }
    if (markers.count("systemd") || remote->pending.count("systemd")) {
      if (auto r = must(*n.shell, "files:daemon-reload", "systemctl daemon-reload"); !r) return r.error();
      if (auto s = clear_pending(n, "systemd"); !s) return s;
    }
    const size_t written = rewrite.size() + fix_attrs.size();
    ctx.progress.node(n.node->name,
                      written ? std::to_string(written) + " files written" : "files up to date");
    return {};
  });
}

}  // namespace pgha
