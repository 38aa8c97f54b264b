// The backup: block (and the older pgbackrest: keys it shares): retention, compression, encryption,
// the source of backups and their schedule. Every value reaches pgbackrest.conf or a systemd timer.
#include <string>

#include "core/inventory_rules.hpp"
#include "core/value_grammar.hpp"

namespace pgha {

namespace {

// pgBackRest 2.45's allowed range for repo-retention-full and repo-retention-diff.
constexpr int kMaxRetention = 9999999;

// The same setting under two keys: the newer one wins silently nowhere, it is an error.
void given_once(RuleContext& c, const std::string& newer, const std::string& older) {
  const Inventory& inv = c.inv();
  if (inv.where(newer).line == 0 || inv.where(older).line == 0) return;
  c.error(inv.where(newer), newer + " and " + older + " are both given; keep only " + newer);
}

void check_retention(RuleContext& c, const char* key, const char* older, int value) {
  if (value >= 1 && value <= kMaxRetention) return;
  const std::string path = std::string("backup.") + key;
  c.error(
      c.at({path, older, "backup", "pgbackrest"}),
      path + " is " + std::to_string(value) + "; it must be between 1 and " + std::to_string(kMaxRetention));
}

// Printable ASCII without spaces: it is one line of pgbackrest.conf, which trims spaces around a value.
bool cipher_pass_chars(const std::string& s) {
  for (unsigned char ch : s) {
    if (ch <= 0x20 || ch >= 0x7f) return false;
  }
  return true;
}

}  // namespace

void check_backup(RuleContext& c) {
  const Inventory& inv = c.inv();
  const Backup& b = inv.backup;
  given_once(c, "backup.retention_full", "pgbackrest.retention_full");
  given_once(c, "backup.encryption", "pgbackrest.cipher_type");
  given_once(c, "backup.cipher_pass", "secrets.backup_cipher_pass");
  check_retention(c, "retention_full", "pgbackrest.retention_full", b.retention_full);
  check_retention(c, "retention_diff", "", b.retention_diff);

  const std::string& pass = inv.secrets.backup_cipher_pass;
  const Mark pass_at = c.at({"backup.cipher_pass", "secrets.backup_cipher_pass"});
  if (!pass.empty() && b.cipher_type == "none") {
    c.error(pass_at,
            "a backup cipher passphrase is given but backup.encryption is false; set "
            "`encryption: true` or remove the passphrase");
  } else if (!pass.empty() && (pass.size() < 16 || pass.size() > 1024 || !cipher_pass_chars(pass))) {
    // The passphrase itself is never echoed.
    c.error(pass_at,
            "the backup cipher passphrase must be 16 to 1024 printable ASCII characters without spaces");
  }

  // backup-standby in pgBackRest 2.45 reads the standby's files through pgBackRest on that node (its
  // TLS server or SSH as postgres) and needs the standby listed as pg2-host; pgha configures each node
  // with its own data directory only.
  if (b.from == "standby") {
    c.error(c.at({"backup.from", "backup"}),
            "backup.from: standby is not supported yet: pgBackRest's backup-standby copies from the "
            "standby through its TLS server, which pgha does not set up; use leader");
  }

  const std::pair<const char*, const std::string*> schedules[] = {{"full", &b.schedule_full},
                                                                  {"diff", &b.schedule_diff}};
  for (const auto& [key, expr] : schedules) {
    const std::string why = calendar_problem(*expr);
    if (why.empty()) continue;
    const std::string path = std::string("backup.schedule.") + key;
    c.error(
        c.at({path, "backup.schedule", "backup"}),
        path + " '" + escape_controls(*expr) + "' is not a systemd calendar expression pgha accepts: " + why);
  }
}

}  // namespace pgha
