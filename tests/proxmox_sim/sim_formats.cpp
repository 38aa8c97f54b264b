#include "sim_formats.hpp"

#include <arpa/inet.h>

#include <regex>
#include <sstream>

namespace pgha::sim {

namespace {

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_cidr(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos || !is_ipv4(s.substr(0, slash))) return false;
  return check_integer(s.substr(slash + 1), 0, 32).empty();
}

// Splits "a,b=c,d=e" into the first bare item and key=value pairs; false on an empty part.
bool split_props(const std::string& v, std::string& first, std::map<std::string, std::string>& kv) {
  std::stringstream ss(v);
  std::string part;
  bool at_first = true;
  while (std::getline(ss, part, ',')) {
    if (part.empty()) return false;
    size_t eq = part.find('=');
    if (eq == std::string::npos) {
      if (!at_first) return false;
      first = part;
    } else {
      kv[part.substr(0, eq)] = part.substr(eq + 1);
    }
    at_first = false;
  }
  return true;
}

}  // namespace

std::string check_integer(const std::string& value, long min, long max) {
  if (!std::regex_match(value, std::regex("-?[0-9]+")))
    return "type check ('integer') failed - got '" + value + "'";
  long n = std::stol(value);
  if (n < min) return "value must have a minimum value of " + std::to_string(min);
  if (n > max) return "value must have a maximum value of " + std::to_string(max);
  return "";
}

std::string check_bool(const std::string& value) {
  if (value == "0" || value == "1") return "";
  return "type check ('boolean') failed - got '" + value + "'";
}

std::string check_dns_name(const std::string& value) {
  static const std::regex dns(
      "([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?)(\\.([a-zA-Z0-9]([a-zA-Z0-9\\-]*[a-zA-Z0-9])?))*");
  if (std::regex_match(value, dns)) return "";
  return "invalid format - value does not look like a valid DNS name";
}

std::string check_net(const std::string& value) {
  std::string first;
  std::map<std::string, std::string> kv;
  if (!split_props(value, first, kv)) return "invalid format - format error";
  static const std::regex models("virtio|e1000|e1000e|rtl8139|vmxnet3");
  std::string model = first;
  for (const char* m : {"virtio", "e1000", "e1000e", "rtl8139", "vmxnet3"}) {
    if (kv.count(m) != 0) model = m;
  }
  if (!std::regex_match(model, models))
    return "invalid format - model: value '" + model + "' does not have a value in the enumeration";
  for (const auto& [k, v] : kv) {
    if (k == "bridge") {
      if (!std::regex_match(v, std::regex("[-_.\\w\\d]+"))) return "invalid format - bridge: invalid format";
    } else if (k == "tag") {
      if (std::string e = check_integer(v, 1, 4094); !e.empty()) return "invalid format - tag: " + e;
    } else if (k == "firewall" || k == "link_down") {
      if (std::string e = check_bool(v); !e.empty()) return "invalid format - " + k + ": " + e;
    } else if (k != "macaddr" && k != "mtu" && k != "queues" && k != "rate" && k != model) {
      return "invalid format - format error\n" + k + ": property is not defined in schema";
    }
  }
  if (kv.count("bridge") == 0) return "invalid format - bridge: property is missing";
  return "";
}

std::string check_ipconfig(const std::string& value) {
  std::string first;
  std::map<std::string, std::string> kv;
  if (!split_props(value, first, kv) || !first.empty()) return "invalid format - format error";
  for (const auto& [k, v] : kv) {
    if (k == "ip") {
      // pve-common: src/PVE/JSONSchema.pm pve_verify_ipv4_config / pve_verify_cidrv4: the prefix
      // must be 8..32.
      bool prefix_ok = false;
      if (size_t slash = v.find('/'); slash != std::string::npos) {
        std::string bits = v.substr(slash + 1);
        prefix_ok = !bits.empty() && bits.size() <= 2 &&
                    bits.find_first_not_of("0123456789") == std::string::npos && std::stoi(bits) > 7;
      }
      if (v != "dhcp" && v != "manual" && (!is_cidr(v) || !prefix_ok))
        return "invalid format - ip: invalid format - value does not look like a valid ipv4 network "
               "configuration";
    } else if (k == "gw") {
      if (!is_ipv4(v)) return "invalid format - gw: value does not look like a valid IPv4 address";
    } else if (k != "ip6" && k != "gw6") {
      return "invalid format - format error\n" + k + ": property is not defined in schema";
    }
  }
  return "";
}

std::string check_nameserver(const std::string& value) {
  std::stringstream ss(value);
  std::string part;
  while (ss >> part) {
    std::stringstream parts(part);
    std::string ip;
    while (std::getline(parts, ip, ',')) {
      if (!ip.empty() && !is_ipv4(ip)) return "invalid format - value does not look like a valid IP address";
    }
  }
  return "";
}

std::string check_tags(const std::string& value) {
  static const std::regex tag("[a-z0-9_][a-z0-9_\\-+.]*", std::regex::icase);
  std::string cur;
  for (size_t i = 0; i <= value.size(); ++i) {
    char c = i < value.size() ? value[i] : ';';
    if (c == ';' || c == ',' || c == ' ') {
      if (!cur.empty() && !std::regex_match(cur, tag)) return "invalid format - invalid tag '" + cur + "'";
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  return "";
}

std::string check_username(const std::string& value) {
  if (std::regex_match(value, std::regex("[a-z_][a-z0-9_\\-]*"))) return "";
  return "invalid format - value does not look like a valid user name";
}

std::string unescape_sshkeys(const std::string& value) {
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && std::isxdigit(static_cast<unsigned char>(value[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(value[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(value[i]);
    }
  }
  return out;
}

std::string check_sshkeys_encoding(const std::string& value) {
  static const std::regex encoded("[-%a-zA-Z0-9_.!~*'()]*");
  if (!std::regex_match(value, encoded)) return "invalid format - value does not match the regex pattern";
  return "";
}

std::string check_sshkeys(const std::string& value) {
  if (std::string e = check_sshkeys_encoding(value); !e.empty()) return e;
  static const std::regex key(
      "(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-[a-z0-9@.\\-]+) [A-Za-z0-9+/]+=*( .*)?");
  std::stringstream lines(unescape_sshkeys(value));
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    if (!std::regex_match(line, key))
      return "invalid format - unable to parse ssh key '" + line.substr(0, 20) + "...'";
  }
  return "";
}

}  // namespace pgha::sim
