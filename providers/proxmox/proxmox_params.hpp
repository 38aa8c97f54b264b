// Pure encoders for the Proxmox VE API's parameter formats: form bodies, the double-encoded
// `sshkeys`, `ipconfig0`, `net0`, tags and names. No I/O; every function is total.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pgha::pve {

// Ordered request parameters (form body or query string), values not yet encoded.
using Params = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes everything but RFC 3986's unreserved set [A-Za-z0-9-._~]; a space becomes %20,
// never '+'.
std::string percent_encode(std::string_view text);
// Reverses percent_encode (and any %XX); '+' stays '+'. Malformed escapes are kept verbatim.
std::string percent_decode(std::string_view text);

// "k1=v1&k2=v2" with keys and values percent-encoded: a form body or a query string.
std::string form_encode(const Params& params);

// The `sshkeys` value to put into Params: the newline-joined keys percent-encoded ONCE. form_encode
// then encodes it a second time, which is the double encoding the API demands (the server decodes
// the form, checks the result against ^[-%a-zA-Z0-9_.!~*'()]*$, then un-escapes the keys).
std::string sshkeys_value(const std::vector<std::string>& public_keys);

// "ip=10.0.0.5/24,gw=10.0.0.1"; without a gateway "ip=10.0.0.5/24".
std::string ipconfig(const std::string& address, int prefix, const std::string& gateway);
// "virtio,bridge=vmbr0" or "virtio,bridge=vmbr0,tag=20" (vlan_tag 0 = untagged).
std::string net_device(const std::string& bridge, int vlan_tag);

// The tag marking a cluster's VMs: "pgha-" + the cluster name lower-cased, with every character
// outside [a-z0-9_\-+.] replaced by '-'.
std::string cluster_tag(const std::string& cluster_name);
// Splits a tags value ("a;b", also ',' or ' ' separated) into tags; empty parts are dropped.
std::vector<std::string> split_tags(std::string_view tags);
// Joins tags with ';', the separator the API answers with.
std::string join_tags(const std::vector<std::string>& tags);
// True when `tag` matches [a-z0-9_][a-z0-9_\-+.]* (Proxmox's pve-tag format).
bool is_valid_tag(std::string_view tag);

// True for a DNS name as Proxmox's `dns-name` format accepts it (labels of [A-Za-z0-9-], not
// starting or ending with '-', separated by dots).
bool is_dns_name(std::string_view name);

// The size in GiB of a disk value such as "local-lvm:vm-100-disk-0,size=32G" (M, G, T suffixes;
// rounded up); 0 when there is no size.
int disk_size_gib(std::string_view disk_value);

}  // namespace pgha::pve
