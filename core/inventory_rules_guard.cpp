// The guard: block (`pgha guard`): detection, cooldown, restart.
#include <string>

#include "core/inventory_rules.hpp"

namespace pgha {

void check_guard(RuleContext& c) {
  const Inventory& inv = c.inv();
  const GuardConfig& g = inv.guard;
  if (g.detect_s < 1 || g.detect_s > 60) {
    c.error(c.at({"guard.detect_s", "guard"}),
            "guard.detect_s is " + std::to_string(g.detect_s) + "; it must be between 1 and 60 seconds");
  } else if (inv.timing.ttl > 0 && g.detect_s >= inv.timing.ttl) {
    c.warning(c.at({"guard.detect_s", "guard"}),
              "guard.detect_s " + std::to_string(g.detect_s) + " is not below Patroni's ttl " +
                  std::to_string(inv.timing.ttl) +
                  ": the leader key expires before the guard suspects anyone");
  }
  // At least a minute: a fenced machine restarted by guard.restart_fenced needs time to rejoin before
  // it could be fenced again.
  if (g.cooldown_s < 60 || g.cooldown_s > 86400) {
    c.error(c.at({"guard.cooldown", "guard"}), "guard.cooldown is " + std::to_string(g.cooldown_s) +
                                                   "; it must be between 60 and 86400 seconds");
  }
}

}  // namespace pgha
