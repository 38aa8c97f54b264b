#include "providers/proxmox/proxmox_params.hpp"

#include <cctype>
#include <cstdlib>

namespace pgha::pve {

namespace {

bool unreserved(unsigned char c) {
  return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool dns_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (unsigned char c : label) {
    if (std::isalnum(c) == 0 && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if (unreserved(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string form_encode(const Params& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += percent_encode(key);
    out.push_back('=');
    out += percent_encode(value);
  }
  return out;
}

std::string sshkeys_value(const std::vector<std::string>& public_keys) {
  std::string joined;
  for (const auto& key : public_keys) {
    std::string_view k = key;
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r' || k.back() == ' ')) k.remove_suffix(1);
    if (k.empty()) continue;
    joined.append(k);
    joined.push_back('\n');
  }
  return percent_encode(joined);
}

std::string ipconfig(const std::string& address, int prefix, const std::string& gateway) {
  std::string out = "ip=" + address + "/" + std::to_string(prefix);
  if (!gateway.empty()) out += ",gw=" + gateway;
  return out;
}

std::string net_device(const std::string& bridge, int vlan_tag) {
  std::string out = "virtio,bridge=" + bridge;
  if (vlan_tag > 0) out += ",tag=" + std::to_string(vlan_tag);
  return out;
}

std::string cluster_tag(const std::string& cluster_name) {
  std::string out = "pgha-";
  for (unsigned char c : cluster_name) {
    char l = static_cast<char>(std::tolower(c));
    bool ok =
        (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' || l == '-' || l == '+' || l == '.';
    out.push_back(ok ? l : '-');
  }
  return out;
}

std::vector<std::string> split_tags(std::string_view tags) {
  std::vector<std::string> out;
  std::string current;
  for (char c : tags) {
    if (c == ';' || c == ',' || c == ' ') {
      if (!current.empty()) out.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

std::string join_tags(const std::vector<std::string>& tags) {
  std::string out;
  for (const auto& t : tags) {
    if (!out.empty()) out.push_back(';');
    out += t;
  }
  return out;
}

bool is_valid_tag(std::string_view tag) {
  if (tag.empty()) return false;
  for (size_t i = 0; i < tag.size(); ++i) {
    char c = tag[i];
    bool base = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (i == 0 ? !base : !(base || c == '-' || c == '+' || c == '.')) return false;
  }
  return true;
}

bool is_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string_view label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (!dns_label(label)) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

int disk_size_gib(std::string_view disk_value) {
  size_t pos = disk_value.find("size=");
  if (pos == std::string_view::npos) return 0;
  std::string_view rest = disk_value.substr(pos + 5);
  size_t end = rest.find(',');
  std::string size(rest.substr(0, end));
  if (size.empty()) return 0;
  char unit = size.back();
  double number = std::strtod(size.c_str(), nullptr);
  double gib = number;
  switch (unit) {
    case 'K': gib = number / (1024.0 * 1024.0); break;
    case 'M': gib = number / 1024.0; break;
    case 'G': gib = number; break;
    case 'T': gib = number * 1024.0; break;
    default: gib = number / (1024.0 * 1024.0 * 1024.0); break;  // bytes
  }
  int whole = static_cast<int>(gib);
  return gib > whole ? whole + 1 : whole;
}

}  // namespace pgha::pve
