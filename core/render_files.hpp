// Which files each role renders: template, destination on the node, owner/group/mode, and whether the
// content carries a secret. Data only. Lives in core because the renderer needs it; the role catalog
// (roles/catalog.hpp) exposes the same table as RoleSpec::files.
#pragma once

#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"

namespace pgha {

struct RoleFile {
  std::string template_name;  // relative to templates/, e.g. "etcd/etcd.env.mustache"
  std::string path;           // absolute path on the node
  FileAttrs attrs;
  bool secret = false;    // carries a secret: mode 0600, never printed or diffed in logs
  bool tls_only = false;  // rendered only with tls.enabled (the role's certificates)
};

// The files `role` renders, in the order they are written. Never empty for a known role.
// The renderer may skip or tighten some of them for a given inventory (see render_node()).
const std::vector<RoleFile>& role_files(Role role);

}  // namespace pgha
