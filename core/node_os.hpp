// The operating systems pgha runs nodes on, and which one a node runs. Each OS names the Debian suite
// (the Docker base image's tag) and the one PostgreSQL major version it ships: pgha installs Debian's
// own packages, so the version follows the OS. What differs between the OSes' daemons (Patroni's
// leader-key fix, its role names) is detected on the node, not derived from this table.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/inventory.hpp"

namespace pgha {

struct NodeOs {
  std::string id;        // inventory value: debian12 | debian13
  std::string suite;     // bookworm | trixie
  std::string name;      // "Debian 12 (bookworm)"
  int postgres_version;  // the PostgreSQL major version the OS ships
};

const std::vector<NodeOs>& node_oses();
// The inventory's values for `os`, in the table's order.
std::vector<std::string> node_os_ids();
const NodeOs* find_node_os(std::string_view id);
// The OS that ships this PostgreSQL major version; nullptr when none does.
const NodeOs* find_node_os_shipping(int postgres_version);

// The suite of a Debian image name: "trixie" for debian:trixie or localhost/ci/debian:trixie (the
// repository's last component "debian", the tag a lowercase word other than "latest"); "" otherwise.
std::string debian_suite_of(const std::string& image);

// "debian13" for a Docker base image debian:trixie (any registry path ending in "debian"); "" when
// the image is not a Debian suite pgha knows.
std::string os_of_base_image(const std::string& base_image);

// The OS a node runs: nodes[].os or defaults.os when declared, else the Docker base image's suite,
// else Debian 12. Never null for a valid inventory.
const NodeOs& node_os(const Inventory& inv, const Node& node);

}  // namespace pgha
