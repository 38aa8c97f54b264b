// What each role is: its packages, its files (which template goes where, owner and mode), its
// systemd units, and what must come before it. Data only; the engine (roles/engine.*) acts on it.
#pragma once

#include <string>
#include <vector>

#include "core/inventory.hpp"
#include "core/remote_shell.hpp"
#include "core/render_files.hpp"

namespace pgha {

// RoleFile (template, destination, owner/mode, secret) is declared in core/render_files.hpp: the
// renderer in core needs the same table.

// How a changed file reaches its daemon.
enum class ApplyAction { restart, reload, none };

struct RoleSpec {
  Role role;
  std::vector<std::string> packages;  // Debian packages
  std::vector<RoleFile> files;
  std::vector<std::string> units;  // systemd units to enable and start, e.g. "etcd.service"
  ApplyAction on_change = ApplyAction::restart;
  std::vector<Role> after;  // roles that must be healthy first
  // The Debian daemon that starts with Debian's own config when its package is installed and picks
  // up some settings (listen addresses) only on a fresh start: prepare stops it until pgha's config
  // (which carries "Managed by pgha") is in place. Empty: none.
  std::string stock_config;
};

const RoleSpec& role_spec(Role role);
const std::vector<RoleSpec>& role_catalog();  // in bring-up order

// spec.packages for a cluster on PostgreSQL `postgres_version`: the catalog names Debian 12's
// PostgreSQL 15 packages; other versions (from the PGDG repository) swap the version suffix.
std::vector<std::string> role_packages(Role role, int postgres_version);

// Every package the node's roles need, each once, in catalog order.
std::vector<std::string> node_packages(const Node& node, int postgres_version);

// The roles' stock daemons (RoleSpec::stock_config), as (role, unit, config).
struct StockService {
  Role role;
  std::string unit;
  std::string config;  // carries "Managed by pgha" once pgha wrote it
};
const std::vector<StockService>& stock_services();

}  // namespace pgha
