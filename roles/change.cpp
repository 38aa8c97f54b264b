#include "roles/change.hpp"

#include <utility>

namespace pgha {
namespace {

const std::pair<ChangeKind, const char*> kNames[] = {
    {ChangeKind::create_machine, "create_machine"}, {ChangeKind::prepare, "prepare"},
    {ChangeKind::write_file, "write_file"},         {ChangeKind::daemon_reload, "daemon_reload"},
    {ChangeKind::start_unit, "start_unit"},         {ChangeKind::reload_unit, "reload_unit"},
    {ChangeKind::restart_unit, "restart_unit"},     {ChangeKind::etcd_add, "etcd_add"},
    {ChangeKind::etcd_promote, "etcd_promote"},     {ChangeKind::etcd_remove, "etcd_remove"},
    {ChangeKind::patroni_add, "patroni_add"},       {ChangeKind::switchover, "switchover"},
    {ChangeKind::patroni_remove, "patroni_remove"}, {ChangeKind::dcs_delete_key, "dcs_delete_key"},
    {ChangeKind::dcs_patch, "dcs_patch"},           {ChangeKind::sql_objects, "sql_objects"},
    {ChangeKind::backup_stanza, "backup_stanza"},   {ChangeKind::remove_machine, "remove_machine"},
    {ChangeKind::pg_parameter, "pg_parameter"},     {ChangeKind::pg_restart, "pg_restart"},
    {ChangeKind::pg_package, "pg_package"},         {ChangeKind::pg_extension, "pg_extension"},
    {ChangeKind::etcd_replace, "etcd_replace"},
};

}  // namespace

const char* to_string(ChangeKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "?";
}

std::optional<ChangeKind> change_kind_from_string(const std::string& name) {
  for (const auto& [k, n] : kNames) {
    if (name == n) return k;
  }
  return std::nullopt;
}

std::string change_key(const Change& c) {
  return std::string(to_string(c.kind)) + " " + c.node + (c.target.empty() ? "" : " " + c.target);
}

}  // namespace pgha
