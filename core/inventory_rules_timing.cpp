// Patroni and HAProxy timing, ports, keepalived and pgBackRest settings.
#include "core/inventory_rules.hpp"
#include "core/value_grammar.hpp"

namespace pgha {

namespace {

// Where a pgBackRest repository may live on a node.
const std::vector<std::string> kBackupPrefixes = {"/var/lib/pgbackrest", "/srv"};

std::string n2s(int64_t v) {
  return std::to_string(v);
}

// The explicit key if there is one, else the profile that set it.
Mark timing_mark(const RuleContext& c, const std::string& path) {
  return c.at({path, "patroni.profile", "patroni", "haproxy"});
}

void check_patroni_minimum(RuleContext& c, const char* key, int value, int minimum) {
  if (value >= minimum) return;
  std::string path = std::string("patroni.") + key;
  c.error(timing_mark(c, path),
          path + " is " + n2s(value) + ", below Patroni's documented minimum of " + n2s(minimum) +
              "; Patroni 3.0.2 does not enforce this but newer versions silently change it");
}

}  // namespace

void check_timing(RuleContext& c) {
  const Timing& t = c.inv().timing;
  check_patroni_minimum(c, "ttl", t.ttl, 20);
  check_patroni_minimum(c, "loop_wait", t.loop_wait, 2);
  check_patroni_minimum(c, "retry_timeout", t.retry_timeout, 3);
  int64_t needed = int64_t{t.loop_wait} + 2 * int64_t{t.retry_timeout};
  if (needed > t.ttl) {
    c.error(c.at({"patroni.ttl", "patroni.loop_wait", "patroni.retry_timeout", "patroni.profile", "patroni"}),
            "Patroni needs loop_wait + 2*retry_timeout <= ttl, but " + n2s(t.loop_wait) + " + 2*" +
                n2s(t.retry_timeout) + " = " + n2s(needed) + " > " + n2s(t.ttl));
  }
  if (t.primary_start_timeout < 0) {
    c.error(timing_mark(c, "patroni.primary_start_timeout"),
            "patroni.primary_start_timeout must not be negative");
  }
  if (t.maximum_lag_on_failover < 0) {
    c.error(timing_mark(c, "patroni.maximum_lag_on_failover"),
            "patroni.maximum_lag_on_failover must not be negative");
  }
  struct Check {
    const char* key;
    int value;
    int min;
  };
  bool checks_ok = true;
  for (const Check& k : {Check{"check_inter_ms", t.check_inter_ms, 100},
                         Check{"check_fastinter_ms", t.check_fastinter_ms, 100},
                         Check{"check_downinter_ms", t.check_downinter_ms, 100},
                         Check{"check_fall", t.check_fall, 1}, Check{"check_rise", t.check_rise, 1}}) {
    if (k.value >= k.min) continue;
    checks_ok = false;
    std::string path = std::string("haproxy.") + k.key;
    c.error(timing_mark(c, path), path + " is " + n2s(k.value) + "; it must be at least " + n2s(k.min));
  }
  int64_t detect_ms = int64_t{t.check_inter_ms} + (int64_t{t.check_fall} - 1) * t.check_fastinter_ms;
  if (checks_ok && detect_ms >= int64_t{t.ttl} * 1000) {
    c.error(c.at({"haproxy.check_inter_ms", "haproxy.check_fall", "haproxy.check_fastinter_ms", "patroni.ttl",
                  "haproxy", "patroni.profile"}),
            "HAProxy needs check_inter_ms + (check_fall-1)*check_fastinter_ms = " + n2s(t.check_inter_ms) +
                " + " + n2s(t.check_fall - 1) + "*" + n2s(t.check_fastinter_ms) + " = " + n2s(detect_ms) +
                " ms to mark a failed primary down, which must be less than the Patroni ttl (" +
                n2s(int64_t{t.ttl} * 1000) +
                " ms); otherwise it keeps sending writes to the old primary after a "
                "new one is promoted");
  }
}

void check_ports(RuleContext& c) {
  const Ports& p = c.inv().ports;
  const std::pair<const char*, int> ports[] = {
      {"postgres", p.postgres},           {"patroni_api", p.patroni_api},
      {"etcd_client", p.etcd_client},     {"etcd_peer", p.etcd_peer},
      {"haproxy_write", p.haproxy_write}, {"haproxy_read", p.haproxy_read},
      {"haproxy_stats", p.haproxy_stats}, {"pgbouncer", p.pgbouncer}};
  for (size_t j = 0; j < std::size(ports); ++j) {
    std::string path = std::string("ports.") + ports[j].first;
    Mark at = c.at({path, "ports"});
    if (ports[j].second < 1 || ports[j].second > 65535) {
      c.error(at, path + " is " + n2s(ports[j].second) + "; a port must be between 1 and 65535");
      continue;
    }
    if (ports[j].second == 22) {
      c.error(at, path + " is 22, the port the nodes' SSH server needs");
      continue;
    }
    const StaticSettings& ssh = c.inv().provider.static_hosts;
    if (c.inv().provider.type == ProviderType::static_hosts && ports[j].second == ssh.ssh_port) {
      c.error(at, path + " " + n2s(ports[j].second) + " collides with provider.static.ssh_port");
      continue;
    }
    for (size_t i = 0; i < j; ++i) {
      if (ports[i].second != ports[j].second) continue;
      c.error(c.at({path, std::string("ports.") + ports[i].first, "ports"}),
              path + " " + n2s(ports[j].second) + " collides with ports." + ports[i].first);
      break;
    }
  }
}

void check_services(RuleContext& c) {
  const Inventory& inv = c.inv();
  const Keepalived& k = inv.keepalived;
  if (k.virtual_router_id < 1 || k.virtual_router_id > 255) {
    c.error(c.at({"keepalived.virtual_router_id", "keepalived"}),
            "keepalived.virtual_router_id is " + n2s(k.virtual_router_id) + "; it must be between 1 and 255");
  }
  if (k.advert_int < 1 || k.advert_int > 255) {
    c.error(c.at({"keepalived.advert_int", "keepalived"}),
            "keepalived.advert_int is " + n2s(k.advert_int) + "; it must be between 1 and 255 seconds");
  }
  const Backup& b = inv.backup;
  if (b.repo_path.empty() || b.repo_path[0] != '/') {
    c.error(c.at({"pgbackrest.repo_path", "pgbackrest"}), "pgbackrest.repo_path must be an absolute path");
  } else if (!valid_path_under(b.repo_path, kBackupPrefixes)) {
    // It becomes a mount point and a pgbackrest.conf line: under a prefix meant for backups, so it
    // can shadow neither /var/lib/etcd nor PostgreSQL's data, and in normal form, so a prefix check
    // means what it says.
    c.error(c.at({"pgbackrest.repo_path", "pgbackrest"}),
            "pgbackrest.repo_path '" + b.repo_path +
                "' must be a normalised path (no '.', '..', '//' or trailing '/'; letters, digits and "
                "'._+-') under /var/lib/pgbackrest or /srv");
  }
}

}  // namespace pgha
