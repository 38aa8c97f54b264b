// Proxmox's parameter format checks, as the simulator enforces them. Each returns "" when the value
// is valid, else the message Proxmox puts into the 400 answer's `errors` map.
#pragma once

#include <string>

namespace pgha::sim {

std::string check_integer(const std::string& value, long min, long max);
std::string check_bool(const std::string& value);
std::string check_dns_name(const std::string& value);
std::string check_net(const std::string& value);       // net0
std::string check_ipconfig(const std::string& value);  // ipconfig0
std::string check_nameserver(const std::string& value);
std::string check_tags(const std::string& value);
std::string check_username(const std::string& value);  // ciuser
// The form-decoded sshkeys value must match ^[-%a-zA-Z0-9_.!~*'()]*$ (the `urlencoded` format):
// a parameter error otherwise.
std::string check_sshkeys_encoding(const std::string& value);
// check_sshkeys_encoding, then each un-escaped line must be an SSH public key (what ssh-keygen -l
// accepts, approximated by its shape).
std::string check_sshkeys(const std::string& value);
// Un-escapes an sshkeys value (the second decoding).
std::string unescape_sshkeys(const std::string& value);

}  // namespace pgha::sim
