#include "core/inventory_sections.hpp"

#include <algorithm>
#include <cctype>

#include "core/node_os.hpp"

namespace pgha {

namespace {

std::string item(const std::string& list, size_t i) {
  return list + "[" + std::to_string(i) + "]";
}

// Calls read(item, path) for each entry of a sequence; reports anything else but null.
template <class F>
void each_item(YamlReader& r, const YAML::Node& list, const std::string& path, F read) {
  if (list.IsNull()) return;
  if (!list.IsSequence()) {
    r.error(r.where(path), "expected a list for " + path);
    return;
  }
  size_t i = 0;
  for (auto it = list.begin(); it != list.end(); ++it, ++i) {
    std::string p = item(path, i);
    Mark at = YamlReader::mark_of(*it);
    r.record(p, at.line ? at : r.where(path));
    read(*it, p);
  }
}

Node node_from_defaults(const Inventory& inv) {
  Node n;
  n.resources = inv.defaults;
  n.os = inv.default_os;
  n.roles = inv.default_roles;
  return n;
}

// Copies marks recorded under "instances.<name>.<key>" to "nodes[i].<field>".
void alias_instance_marks(YamlReader& r, const std::string& from, const std::string& to) {
  static const std::pair<const char*, const char*> renames[] = {
      {"ip_address", "address"}, {"cpu_cores", "cpu"}, {"ram_mb", "memory_mb"},
      {"disk_gb", "disk_gb"},    {"roles", "roles"},   {"tags", "tags"}};
  r.record(to, r.where(from));
  for (const auto& [key, field] : renames) {
    Mark at = r.where(from + "." + key);
    if (at.line) r.record(to + "." + field, at);
  }
}

}  // namespace

void read_nodes(YamlReader& r, const YAML::Node& list, Inventory& inv) {
  each_item(r, list, "nodes", [&](const YAML::Node& value, const std::string& path) {
    Node n = node_from_defaults(inv);
    r.fields(value, path,
             {{"name", r.text(n.name)},
              {"address", r.text(n.address)},
              {"os", r.choice(n.os, node_os_ids(), "node OS")},
              {"cpu", r.integer(n.resources.cpu)},
              {"memory_mb", r.integer(n.resources.memory_mb)},
              {"disk_gb", r.integer(n.resources.disk_gb)},
              {"roles", r.roles(n.roles)},
              {"tags", r.text_map(n.tags)},
              {"postgresql", [&](const YAML::Node& v, const std::string& p) {
                 r.fields(v, p, {{"parameters", r.text_map(n.parameters)}});
               }}});
    inv.nodes.push_back(std::move(n));
  });
}

void read_instances(YamlReader& r, const YAML::Node& map, Inventory& inv) {
  if (map.IsNull()) return;
  if (!map.IsMap()) {
    r.error(r.where("instances"), "expected a mapping of instance name to settings for instances");
    return;
  }
  for (const auto& e : r.entries(map, "instances", nullptr)) {
    std::string from = YamlReader::child("instances", e.key);
    Node n = node_from_defaults(inv);
    n.name = e.key;
    r.fields(e.value, from,
             {{"ip_address", r.text(n.address)},
              {"cpu_cores", r.integer(n.resources.cpu)},
              {"ram_mb", r.integer(n.resources.memory_mb)},
              {"disk_gb", r.integer(n.resources.disk_gb)},
              {"roles", r.roles(n.roles)},
              {"tags", r.text_map(n.tags)}});
    std::string to = item("nodes", inv.nodes.size());
    alias_instance_marks(r, from, to);
    r.record(to + ".name", e.key_mark);
    inv.nodes.push_back(std::move(n));
  }
}

namespace {

bool mentions_password(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text.find("password") != std::string::npos;
}

// Each option must be one of PostgreSQL's role options, and set its attribute once.
void read_role_options(YamlReader& r, const std::vector<std::string>& texts, const std::string& path,
                       std::vector<RoleOption>& out) {
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string p = item(path, i);
    std::string why;
    auto option = parse_role_option(texts[i], &why);
    if (!option) {
      std::string hint = did_you_mean(texts[i], role_option_keywords());
      // An option that tries to set a password may hold one: it is not echoed.
      std::string shown = mentions_password(texts[i]) ? "" : " '" + texts[i] + "'";
      r.error(r.where(p), "unknown role option" + shown + " in " + path + ": " + why +
                              (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
      continue;
    }
    auto clash =
        std::find_if(out.begin(), out.end(), [&](const RoleOption& o) { return same_attribute(o, *option); });
    if (clash != out.end()) {
      r.error(r.where(p), "role option '" + texts[i] + "' in " + path + " sets the same attribute as '" +
                              to_sql(*clash) + "'");
      continue;
    }
    out.push_back(*option);
  }
}

}  // namespace

void read_users(YamlReader& r, const YAML::Node& list, Inventory& inv) {
  each_item(r, list, "users", [&](const YAML::Node& value, const std::string& path) {
    User u;
    std::vector<std::string> options;
    r.fields(value, path,
             {{"name", r.text(u.name)}, {"password", r.text(u.password)}, {"options", r.texts(options)}});
    read_role_options(r, options, path + ".options", u.options);
    inv.users.push_back(std::move(u));
  });
}

void read_guard(YamlReader& r, const YAML::Node& map, Inventory& inv) {
  GuardConfig& g = inv.guard;
  r.fields(map, "guard",
           {{"detect_s", r.integer(g.detect_s)},
            {"cooldown", r.integer(g.cooldown_s)},
            {"restart_fenced", r.boolean(g.restart_fenced)}});
}

void read_tls(YamlReader& r, const YAML::Node& map, Inventory& inv) {
  TlsConfig& t = inv.tls;
  r.fields(map, "tls",
           {{"enabled", r.boolean(t.enabled)}, {"ca_cert", r.text(t.ca_cert)}, {"ca_key", r.text(t.ca_key)}});
}

void read_backup(YamlReader& r, const YAML::Node& map, Inventory& inv) {
  Backup& b = inv.backup;
  bool encryption = b.cipher_type != "none";
  bool encryption_given = false;
  r.fields(map, "backup",
           {{"retention_full", r.integer(b.retention_full)},
            {"retention_diff", r.integer(b.retention_diff)},
            {"compression", r.choice(b.compression, {"none", "gz", "bz2", "lz4", "zst"}, "compression")},
            {"encryption",
             [&](const YAML::Node& v, const std::string& p) {
               encryption_given = true;
               r.boolean(encryption)(v, p);
             }},
            {"cipher_pass", r.text(inv.secrets.backup_cipher_pass)},
            {"from", r.choice(b.from, {"leader", "standby"}, "backup source")},
            {"schedule", [&](const YAML::Node& v, const std::string& p) {
               r.fields(v, p, {{"full", r.text(b.schedule_full)}, {"diff", r.text(b.schedule_diff)}});
             }}});
  if (encryption_given) b.cipher_type = encryption ? "aes-256-cbc" : "none";
}

void read_databases(YamlReader& r, const YAML::Node& list, Inventory& inv) {
  each_item(r, list, "databases", [&](const YAML::Node& value, const std::string& path) {
    Database d;
    r.fields(value, path,
             {{"name", r.text(d.name)}, {"owner", r.text(d.owner)}, {"extensions", r.texts(d.extensions)}});
    inv.databases.push_back(std::move(d));
  });
}

}  // namespace pgha
