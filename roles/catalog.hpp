// What each role is: its packages, its files (which template goes where, owner and mode), its
// systemd units, and what must come before it. Data only; the engine (roles/engine.*) acts on it.
#pragma once

#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"

namespace pgha {

struct RoleFile {
  std::string template_name;  // relative to templates/, e.g. "etcd/etcd.conf.mustache"
  std::string path;           // absolute path on the node
  FileAttrs attrs;
  bool secret = false;
};

// How a changed file reaches its daemon.
enum class ApplyAction { restart, reload, none };

struct RoleSpec {
  Role role;
  std::vector<std::string> packages;  // Debian packages
  std::vector<RoleFile> files;
  std::vector<std::string> units;     // systemd units to enable and start, e.g. "etcd.service"
  ApplyAction on_change = ApplyAction::restart;
  std::vector<Role> after;            // roles that must be healthy first
};

const RoleSpec& role_spec(Role role);
const std::vector<RoleSpec>& role_catalog();  // in bring-up order

}  // namespace pgha
